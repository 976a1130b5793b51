//! The formats shaped like Q4_0 — a scale and 16 bytes of nibbles a block of 32,
//! element `j` low and `j + 16` high — on 512-bit vectors with AVX-512 VNNI: four blocks a
//! vector, x arranged in Q4_0's groups (see `QuantX::q`), each lane's sum started at
//! `−c·Σx` (`neg_corr`) so the weights enter the byte products unsigned:
//! - Q4_0: the nibble, `c = 8`;
//! - Q5_0 (22-byte blocks): the nibble with its fifth bit from `qh` added by a byte mask
//!   (one masked add for 64 values), `c = 16`;
//! - Q4_1 and Q5_1 (`w = d·q + m`): the nibble (with Q5_1's fifth bit), `c = 0`, the
//!   minimums met by the token's `dx·Σq` per block in four more lanes; I4G32 (19-byte
//!   blocks, `w = d·(q − z)`) the same way with `m = −d·z`, and I4G64/I4G128 (a scale and
//!   zero point per 64 or 128) with theirs repeated over their 32s;
//! - IQ4_NL: the table entry plus 128 (one `vpshufb` for 64 values), `c = 128`;
//! - MXFP4 (17-byte blocks, an E8M0 scale byte): the doubled E2M1 value plus 16 (the same
//!   `vpshufb`), `c = 16`.
//!
//! The generic unit kernel (`quant_units_x86`) took the others a block at a time
//! on 256-bit vectors; there Q5_0 and IQ4_NL stayed at 0.96–1.12× dense f16 on the dequantised
//! weights at 4096² (a 2-vCPU Xeon). They take this kernel where whole groups fill the row
//! (K % 128 == 0, [`groups_of`]); Q4_0's last blocks go through its 256-bit tail.

use std::arch::x86_64::*;

use crate::formats::fp4::{e8m0_half, KV as FP4_VALUES};
use crate::formats::iq4::KVALUES;
use crate::formats::QuantType;
use crate::quant_int8_x86::{fold512, hsum, q4_0_scales, q4_0_tail, QuantX, VnniDot};

/// A Q4_0-shaped format: where its fields sit and how its nibbles become unsigned bytes.
trait Nib4 {
    /// Bytes a block.
    const STRIDE: usize;
    /// Offset of the 16 nibble bytes in a block (the scale is at 0).
    const QS: usize;
    /// What each lane's sum starts at, per unit of `−Σx`: the weights' offset.
    const CORR: i32;
    /// Bytes of 128 weights (a group).
    const GROUP_BYTES: usize = 4 * Self::STRIDE;
    /// Where the 16 nibble bytes of the group's `i`-th 32 weights start.
    #[inline(always)]
    fn chunk(group: *const u8, i: usize) -> *const u8 {
        group.wrapping_add(Self::STRIDE * i + Self::QS)
    }
    /// Whether rows with a partial last group are taken (their blocks through Q4_0's 256-bit
    /// tail); the other formats take this kernel for whole groups only.
    const TAIL: bool = false;
    /// The four blocks' low and high nibbles (`lo`, `hi`: block `i` in 128-bit lane `i`) as
    /// the unsigned bytes the products take.
    unsafe fn values(group: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i);
    /// The four blocks' scales as f32 in lanes 0..4 (an f16 at the start of each block).
    #[inline(always)]
    unsafe fn scales(group: *const u8) -> __m128 {
        // SAFETY: four blocks at `group`; F16C is enabled by the caller.
        unsafe { scales4(group, Self::STRIDE) }
    }
    /// Whether blocks carry a minimum `m` (`w = d·q + m`), met by the token's `dx·Σq` per block.
    const OFFSET: bool = false;
    /// The four blocks' minimums as f32 in lanes 0..4 (an f16 after the scale), where `OFFSET`.
    #[inline(always)]
    unsafe fn mins(group: *const u8) -> __m128 {
        // SAFETY: four blocks at `group`; F16C is enabled by the caller.
        unsafe { scales4(group.add(2), Self::STRIDE) }
    }
}

/// Q4_0: `d: f16`, 16 bytes of nibbles; `w = d·(q − 8)`.
struct Q4_0;
impl Nib4 for Q4_0 {
    const STRIDE: usize = 18;
    const QS: usize = 2;
    const CORR: i32 = 8;
    const TAIL: bool = true;
    #[inline(always)]
    unsafe fn values(_: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        (lo, hi)
    }
}

/// Q5_0: `d: f16`, `qh: u32`, 16 bytes of nibbles; `w = d·(q − 16)`.
struct Q5_0;
impl Nib4 for Q5_0 {
    const STRIDE: usize = 22;
    const QS: usize = 6;
    const CORR: i32 = 16;
    #[inline(always)]
    unsafe fn values(group: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        // SAFETY: four blocks at `group`; AVX-512 BW is enabled by the caller.
        unsafe { fifth_bits(group.add(2), Self::STRIDE, lo, hi) }
    }
}

/// Q4_1: `d, m: f16`, 16 bytes of nibbles; `w = d·q + m`.
struct Q4_1;
impl Nib4 for Q4_1 {
    const STRIDE: usize = 20;
    const QS: usize = 4;
    const CORR: i32 = 0;
    const OFFSET: bool = true;
    #[inline(always)]
    unsafe fn values(_: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        (lo, hi)
    }
}

/// Q5_1: `d, m: f16`, `qh: u32`, 16 bytes of nibbles; `w = d·q + m`.
struct Q5_1;
impl Nib4 for Q5_1 {
    const STRIDE: usize = 24;
    const QS: usize = 8;
    const CORR: i32 = 0;
    const OFFSET: bool = true;
    #[inline(always)]
    unsafe fn values(group: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        // SAFETY: four blocks at `group`; AVX-512 BW is enabled by the caller.
        unsafe { fifth_bits(group.add(4), Self::STRIDE, lo, hi) }
    }
}

/// Q5's nibbles of four blocks with their fifth bits added: bit j of block i's `qh` (the u32
/// at `qh + stride·i`) is the fifth bit of element j, so elements 0..16 (the low nibbles) take
/// bits 16i..16i + 16 of the low mask and 16..32 the high one — one masked add for 64 values.
#[inline(always)]
unsafe fn fifth_bits(qh: *const u8, stride: usize, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
    // SAFETY: four u32 at `qh`, `stride` apart (the caller's blocks); AVX-512 BW is enabled.
    unsafe {
        let h = |i: usize| u64::from((qh.add(stride * i) as *const u32).read_unaligned());
        let (h0, h1, h2, h3) = (h(0), h(1), h(2), h(3));
        let low = |h: u64| h & 0xffff;
        let lo_bits = low(h0) | low(h1) << 16 | low(h2) << 32 | low(h3) << 48;
        let hi_bits = h0 >> 16 | (h1 >> 16) << 16 | (h2 >> 16) << 32 | (h3 >> 16) << 48;
        let sixteen = _mm512_set1_epi8(16);
        (
            _mm512_mask_add_epi8(lo, lo_bits, lo, sixteen),
            _mm512_mask_add_epi8(hi, hi_bits, hi, sixteen),
        )
    }
}

/// I4G (AWQ/GPTQ int4, groups of G = 32, 64 or 128): `d: f16`, `z: u8`, then `G/32` runs of
/// 16 nibble bytes in Q4_0's order; `w = d·(q − z)`, met as Q4_1's `d·q + m` with `m = −d·z`
/// (the reference decoder's rounding of the zero point's part). A group of 128 weights is four
/// blocks, two or one.
struct I4g<const G: usize>;
impl<const G: usize> Nib4 for I4g<G> {
    const STRIDE: usize = 3 + G / 2;
    const QS: usize = 3;
    const CORR: i32 = 0;
    const OFFSET: bool = true;
    const GROUP_BYTES: usize = (128 / G) * Self::STRIDE;
    #[inline(always)]
    fn chunk(group: *const u8, i: usize) -> *const u8 {
        let per = G / 32;
        group.wrapping_add(Self::STRIDE * (i / per) + 3 + 16 * (i % per))
    }
    #[inline(always)]
    unsafe fn values(_: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        (lo, hi)
    }
    #[inline(always)]
    unsafe fn scales(group: *const u8) -> __m128 {
        // SAFETY: the group's blocks at `group`; F16C is enabled by the caller.
        unsafe { Self::per_unit(group).0 }
    }
    #[inline(always)]
    unsafe fn mins(group: *const u8) -> __m128 {
        // SAFETY: as `scales`.
        unsafe {
            let (d, z) = Self::per_unit(group);
            _mm_xor_ps(_mm_mul_ps(d, z), _mm_set1_ps(-0.0))
        }
    }
}

impl<const G: usize> I4g<G> {
    /// Each 32 weights' `d` and `z` (as f32) in lanes 0..4, from the block holding them.
    #[inline(always)]
    unsafe fn per_unit(group: *const u8) -> (__m128, __m128) {
        // SAFETY: the group's blocks at `group`; F16C is enabled by the caller.
        unsafe {
            let block = |i: usize| group.add(Self::STRIDE * (i / (G / 32)));
            let d = |i: usize| u32::from((block(i) as *const u16).read_unaligned());
            let z = |i: usize| i32::from(*block(i).add(2));
            let h = _mm_setr_epi32((d(0) | d(1) << 16) as i32, (d(2) | d(3) << 16) as i32, 0, 0);
            let z = _mm_cvtepi32_ps(_mm_setr_epi32(z(0), z(1), z(2), z(3)));
            (_mm_cvtph_ps(h), z)
        }
    }
}

/// IQ4_NL: `d: f16`, 16 bytes of indices into the non-linear table.
struct Iq4Nl;
impl Nib4 for Iq4Nl {
    const STRIDE: usize = 18;
    const QS: usize = 2;
    const CORR: i32 = 128;
    #[inline(always)]
    unsafe fn values(_: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        // SAFETY: AVX-512 F and BW are enabled by the caller.
        unsafe { look_up(&IQ4_LIFTED, lo, hi) }
    }
}

/// MXFP4: an E8M0 exponent, 16 bytes of E2M1 codes (as doubled integers, the scale halved).
struct Mxfp4;
impl Nib4 for Mxfp4 {
    const STRIDE: usize = 17;
    const QS: usize = 1;
    const CORR: i32 = 16;
    #[inline(always)]
    unsafe fn values(_: *const u8, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
        // SAFETY: AVX-512 F and BW are enabled by the caller.
        unsafe { look_up(&E2M1_LIFTED, lo, hi) }
    }
    #[inline(always)]
    unsafe fn scales(group: *const u8) -> __m128 {
        // SAFETY: four blocks at `group`, each starting with its E8M0 byte.
        unsafe {
            let e = |i: usize| e8m0_half(*group.add(17 * i));
            _mm_setr_ps(e(0), e(1), e(2), e(3))
        }
    }
}

/// A table of 16 bytes, aligned for its load.
#[repr(align(16))]
struct Table([u8; 16]);

/// IQ4_NL's values plus 128 (1..=241: unsigned bytes).
static IQ4_LIFTED: Table = lifted(&KVALUES, 128);
/// MXFP4's doubled E2M1 values (−12..=12, the scale halved) plus 16: unsigned bytes.
static E2M1_LIFTED: Table = lifted(&FP4_VALUES, 16);

/// `values` plus `by`, as the unsigned bytes the products take (`by` keeps them in 0..=255).
const fn lifted(values: &[i8; 16], by: i16) -> Table {
    let mut t = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = (values[i] as i16 + by) as u8;
        i += 1;
    }
    Table(t)
}

/// Each nibble of `lo` and `hi` replaced by its entry of `table` (one `vpshufb` for 64).
#[inline(always)]
unsafe fn look_up(table: &Table, lo: __m512i, hi: __m512i) -> (__m512i, __m512i) {
    // SAFETY: 16 readable bytes in `table`; AVX-512 F and BW are enabled by the caller.
    unsafe {
        let t = _mm512_broadcast_i32x4(_mm_loadu_si128(table.0.as_ptr() as *const __m128i));
        (_mm512_shuffle_epi8(t, lo), _mm512_shuffle_epi8(t, hi))
    }
}

/// A computation generic over this module's formats, run by [`with_format`].
trait FormatKernel {
    /// What it gives.
    type Out;
    /// The computation for format `F`.
    ///
    /// # Safety
    /// The kernel's own contract, with `F` the format of its rows.
    unsafe fn run<F: Nib4>(self) -> Self::Out;
}

/// `kernel` for `ty`'s format where its int8 rows take this module's groups, else `None`: the
/// one list of them. Q4_0 always (its 256-bit kernel shares the arrangement and takes partial
/// groups); the others with VNNI (`vnni`) and rows of whole groups (K % 128 == 0).
///
/// # Safety
/// `kernel`'s contract, with `ty` the format of its rows.
#[inline(always)]
unsafe fn with_format<K: FormatKernel>(
    ty: QuantType,
    vnni: bool,
    k: usize,
    kernel: K,
) -> Option<K::Out> {
    use QuantType as Q;
    let groups = vnni && k.is_multiple_of(128);
    // SAFETY: the caller's contract.
    unsafe {
        match ty {
            Q::Q4_0 => Some(kernel.run::<Q4_0>()),
            Q::Q4_1 if groups => Some(kernel.run::<Q4_1>()),
            Q::Q5_0 if groups => Some(kernel.run::<Q5_0>()),
            Q::Q5_1 if groups => Some(kernel.run::<Q5_1>()),
            Q::IQ4_NL if groups => Some(kernel.run::<Iq4Nl>()),
            Q::MXFP4 if groups => Some(kernel.run::<Mxfp4>()),
            Q::I4G32 if groups => Some(kernel.run::<I4g<32>>()),
            Q::I4G64 if groups => Some(kernel.run::<I4g<64>>()),
            Q::I4G128 if groups => Some(kernel.run::<I4g<128>>()),
            _ => None,
        }
    }
}

/// The `−Σx` multiple each lane starts at when `ty`'s int8 row takes this kernel (`vnni`: the
/// CPU's dot-product form is AVX-512 VNNI) on rows of `k` values; `None` where it does not.
pub(crate) fn groups_of(ty: QuantType, vnni: bool, k: usize) -> Option<i32> {
    /// A format's `CORR`.
    struct Corr;
    impl FormatKernel for Corr {
        type Out = i32;
        unsafe fn run<F: Nib4>(self) -> i32 {
            F::CORR
        }
    }
    // SAFETY: `Corr` reads a constant and touches no memory.
    unsafe { with_format(ty, vnni, k, Corr) }
}

/// One row of `ty` against `T` tokens through [`row_zmm`] where [`groups_of`] takes `ty` with
/// VNNI, else `None`.
///
/// # Safety
/// AVX-512 F, BW and VNNI are enabled by the caller; `row` is one row of `ty` blocks for `k`
/// values; every token was quantised for `ty` with VNNI from `k` values.
#[inline(always)]
pub(crate) unsafe fn row<const T: usize>(
    ty: QuantType,
    row: &[u8],
    k: usize,
    x: &[&QuantX; T],
) -> Option<[f32; T]> {
    /// [`row_zmm`] over one row.
    struct Row<'a, const T: usize> {
        row: *const u8,
        nb: usize,
        x: &'a [&'a QuantX; T],
    }
    impl<const T: usize> FormatKernel for Row<'_, T> {
        type Out = [f32; T];
        #[inline(always)]
        unsafe fn run<F: Nib4>(self) -> [f32; T] {
            // SAFETY: the contract of `row`, with `F` the format `with_format` chose.
            unsafe { row_zmm::<F, T>(self.row, self.nb, self.x) }
        }
    }
    let kernel = Row {
        row: row.as_ptr(),
        nb: k / 32,
        x,
    };
    // SAFETY: this function's contract.
    unsafe { with_format(ty, true, k, kernel) }
}

/// The four f16 scales of the blocks at `b`, `b + stride`, … as f32 in lanes 0..4.
#[inline(always)]
pub(crate) unsafe fn scales4(b: *const u8, stride: usize) -> __m128 {
    // SAFETY: four blocks lie at `b` (the caller's contract); F16C is enabled by the caller.
    unsafe {
        let h = |i: usize| u64::from(std::ptr::read_unaligned(b.add(stride * i) as *const u16));
        let d4 = h(0) | h(1) << 16 | h(2) << 32 | h(3) << 48;
        _mm_cvtph_ps(_mm_cvtsi64_si128(d4 as i64))
    }
}

/// Group `g` (weights `128g..128g + 128`: four 32s) of format `F` as one 512-bit vector
/// against `T` tokens.
#[inline(always)]
unsafe fn group_zmm<F: Nib4, const T: usize>(
    acc: &mut [__m512; T],
    off: &mut [__m128; T],
    x: &[&QuantX; T],
    row: *const u8,
    g: usize,
) {
    // SAFETY: group g lies inside the row and the tokens (the caller's contract); AVX-512 F,
    // BW and VNNI are enabled by the caller.
    unsafe {
        let b = row.add(F::GROUP_BYTES * g);
        let load4 = |i: usize| _mm_loadu_si128(F::chunk(b, i) as *const __m128i);
        let v = _mm512_castsi128_si512(load4(0));
        let v = _mm512_inserti32x4::<1>(v, load4(1));
        let v = _mm512_inserti32x4::<2>(v, load4(2));
        let v = _mm512_inserti32x4::<3>(v, load4(3));
        let m4 = _mm512_set1_epi8(0x0f);
        let (lo, hi) = F::values(
            b,
            _mm512_and_si512(v, m4),
            _mm512_and_si512(_mm512_srli_epi16::<4>(v), m4),
        );
        let spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        let s4 = q4_0_scales(F::scales(b), x, 4 * g, 4);
        let mins4 = if F::OFFSET {
            F::mins(b)
        } else {
            _mm_setzero_ps()
        };
        for t in 0..T {
            let xq = x[t].q.as_ptr().add(128 * g);
            let i = if F::CORR == 0 {
                _mm512_setzero_si512()
            } else {
                _mm512_loadu_si512(x[t].neg_corr.as_ptr().add(16 * g) as *const _)
            };
            let i = _mm512_dpbusd_epi32(i, lo, _mm512_loadu_si512(xq as *const _));
            let i = _mm512_dpbusd_epi32(i, hi, _mm512_loadu_si512(xq.add(64) as *const _));
            let s = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(s4[t]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), s, acc[t]);
            if F::OFFSET {
                let dx_sum = _mm_loadu_ps(x[t].dx_sum.as_ptr().add(4 * g));
                off[t] = _mm_fmadd_ps(mins4, dx_sum, off[t]);
            }
        }
    }
}

/// One row of `32·nb` weights of format `F` against `T` tokens: each group of four 32s as one
/// 512-bit vector (half the instructions of two 256-bit pairs), two groups a round into two
/// accumulators per token; Q4_0's last `nb % 4` blocks through its 256-bit tail (the other
/// formats take this kernel only for whole groups). (Helpers are `#[inline(always)]`
/// functions, not closures: a closure is compiled without its caller's target features, and
/// its intrinsics then become calls.)
///
/// # Safety
/// AVX-512 F, BW and VNNI are enabled by the caller; `row` holds `32·nb` weights of `F`; every
/// token was quantised for this kernel ([`groups_of`] gave `F::CORR`) from `32·nb` values;
/// `nb % 4 == 0` unless `F::TAIL`.
#[inline(always)]
unsafe fn row_zmm<F: Nib4, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    // SAFETY: this function's contract.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); T]; 2];
        let mut off = [_mm_setzero_ps(); T];
        let groups = nb / 4;
        let mut g = 0;
        while g + 2 <= groups {
            group_zmm::<F, T>(&mut acc[0], &mut off, x, row, g);
            group_zmm::<F, T>(&mut acc[1], &mut off, x, row, g + 1);
            g += 2;
        }
        if g < groups {
            group_zmm::<F, T>(&mut acc[0], &mut off, x, row, g);
        }
        let mut tail = [_mm256_setzero_ps(); T];
        if F::TAIL {
            q4_0_tail::<VnniDot, T>(&mut tail, x, row, nb);
        } else {
            debug_assert!(nb.is_multiple_of(4), "whole groups only");
        }
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            let mins = _mm_add_ps(off[t], _mm_movehl_ps(off[t], off[t]));
            let mins = _mm_cvtss_f32(_mm_add_ss(mins, _mm_movehdup_ps(mins)));
            *o = hsum(_mm256_add_ps(fold512(acc[0][t], acc[1][t]), tail[t])) + mins;
        }
        out
    }
}
