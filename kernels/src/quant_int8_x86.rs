//! x86_64 integer row kernels (the CPU speed path) for Q4_0, Q8_0 and Q4_K, tuned by hand (every
//! other integer-valued format goes through the generic kernel of `quant_units_x86`, which
//! shares [`quantize_x`]): x is quantised to int8 per 32-element block
//! ([`quantize_x`]), each weight block's integers are dotted with it exactly in i32 lanes —
//! `vpdpbusd` on 512-bit vectors where AVX-512 VNNI is present (Q4_0 and the formats shaped
//! like it, `quant_nib4_x86`; Q4_K; Q8_0 for three or four tokens; 256-bit otherwise),
//! `vpmaddubsw` + `vpmaddwd` on 256-bit vectors without VNNI — and the block scales are
//! applied per lane in f32, so no horizontal sum happens before the end of a row. The x
//! quantisation is the only approximation; its bound is `quant_matmul::int8_error_bound`.
//!
//! The 4-bit weights enter the byte products unsigned (0..15, `u8` operand) and x signed, so
//! no sign trick is needed: Q4_0's `−8` offset starts each lane's sum at `−8·Σx` (computed once
//! per token), Q4_K's minimum meets `dx·Σq` per block. The token is stored in the order the
//! weight bytes unpack to (see [`QuantX::q`]), so each weight vector meets x with one load and
//! no shuffle, and it is kept compact (1.1–1.6 bytes per value) so that it stays in L1 while
//! the weights stream past: at K = 14336 a 3-byte-per-value token halved Q4_0's speed.
//!
//! Measured side by side on a 2-vCPU Xeon (AVX-512 VNNI) at 4096 × 14336, one token: Q4_0
//! 1.45–1.76 ms, Q4_K 1.39–1.48 ms against ggml's CPU backend (`test-backend-ops perf`, same
//! build machine, d99724f2) 2.72–3.19 ms and 1.57–2.12 ms.

use std::arch::x86_64::*;

use crate::formats::QuantType;
use crate::quant_nib4_x86::{self as nib4, scales4};
use crate::quant_units_x86 as units;
use crate::simd::{clamp, SimdLevel};

/// Whether an integer row kernel exists for `ty`: the hand-tuned ones here, or the generic
/// one of [`crate::quant_units_x86`].
pub(crate) fn supports(ty: QuantType) -> bool {
    matches!(ty, QuantType::Q4_0 | QuantType::Q8_0 | QuantType::Q4_K) || units::supports(ty)
}

/// The instructions that form the byte dot products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntDot {
    /// `vpmaddubsw` to i16 pairs, `vpmaddwd` to i32 (AVX2).
    Avx2,
    /// `vpdpbusd` (AVX-512 VNNI with F, BW, DQ, VL): four products into each i32 at once, on
    /// 512-bit vectors for Q4_0 and Q4_K, 256-bit for Q8_0.
    Vnni,
}

/// The integer dot-product form `level` (capped to the machine) allows, if any.
pub(crate) fn int_dot(level: SimdLevel) -> Option<IntDot> {
    let level = clamp(level);
    if level >= SimdLevel::Avx512
        && is_x86_feature_detected!("avx512vnni")
        && is_x86_feature_detected!("avx512dq")
    {
        Some(IntDot::Vnni)
    } else if level >= SimdLevel::Avx2 {
        Some(IntDot::Avx2)
    } else {
        None
    }
}

/// A copy of a `Vec` whose first element sits on a 64-byte boundary (a cache line), so the
/// kernels' 512-bit loads of it never split a line (measured ~5% faster than unaligned).
pub(crate) struct Aligned<T> {
    buf: Vec<T>,
    at: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    fn from_vec(v: Vec<T>) -> Self {
        let mut buf = vec![T::default(); v.len() + 64 / size_of::<T>()];
        let at = buf.as_ptr().align_offset(64).min(64 / size_of::<T>());
        buf[at..at + v.len()].copy_from_slice(&v);
        Aligned {
            buf,
            at,
            len: v.len(),
        }
    }

    fn as_slice(&self) -> &[T] {
        &self.buf[self.at..self.at + self.len]
    }

    pub(crate) fn as_ptr(&self) -> *const T {
        self.as_slice().as_ptr()
    }
}

/// One token's activations as int8 blocks of 32, `x ≈ dx[b]·q` in block `b`, laid out for
/// the kernel of one weight format.
pub(crate) struct QuantX {
    /// The int8 values. Q4_0 (and the other formats `quant_nib4_x86::groups_of` names, where
    /// it says so) takes blocks in groups of four, then a pair, then one (as many as remain),
    /// each group as the first 16 values of its blocks followed by the last 16 — the low and
    /// the high nibbles of the blocks' bytes. Q4_K for the 512-bit kernel swaps blocks 1 and 2
    /// of every four (`[0, 2, 1, 3]`: one 64-byte load of weights unpacks to sub-blocks 0 and
    /// 2 in its low nibbles and 1 and 3 in its high ones). Q8_0, the 256-bit Q4_K kernel and
    /// the generic kernel keep the natural order.
    pub(crate) q: Aligned<i8>,
    /// Scale of each block of 32.
    pub(crate) dx: Aligned<f32>,
    /// The Q4_0-shaped formats: each i32 lane's starting value, `−c·Σq` over the lane's x
    /// values, `c` the weights' offset (Q4_0 8, Q5_0 16, IQ4_NL's table lifted by 128,
    /// MXFP4's by 16), 4 lanes per block of a group, 8 for a lone block. Stored as i32, the
    /// dot products' starting accumulator read straight from memory (i16 needed a widening
    /// shuffle per group on the port the nibble unpack also uses); the token, 1.6 bytes per
    /// value, still stays in L1 beside the streaming weights.
    pub(crate) neg_corr: Aligned<i32>,
    /// Q4_K, Q4_1, Q5_1, I4G: `dx·Σq` per block of 32 (meets the block minimum).
    pub(crate) dx_sum: Aligned<f32>,
    /// Formats of the generic kernel with offsets: `dx·Σq` per 16 values.
    pub(crate) dx_half_sum: Aligned<f32>,
    /// Formats of the generic kernel with an integer zero point: `Σq` per block of 32.
    pub(crate) q_sum: Aligned<i32>,
}

/// `dx = max|x|/127` per block of 32 (f32, not rounded to f16), `q = x·(1/dx)` rounded to
/// nearest (ties to even) and clamped to ±127, arranged for `ty`'s kernel. `x.len()` is a
/// multiple of 32.
///
/// # Safety
/// The CPU has AVX2 (any [`IntDot`] implies it).
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn quantize_x(ty: QuantType, dot: IntDot, x: &[f32]) -> QuantX {
    let blocks = x.len() / 32;
    let mut q = vec![0i8; x.len()];
    let mut dx = vec![0.0f32; blocks];
    for ((xb, qb), d) in x.chunks_exact(32).zip(q.chunks_exact_mut(32)).zip(&mut dx) {
        // SAFETY: 32 readable f32 in `xb` and 32 writable bytes in `qb`; AVX2 is enabled.
        *d = unsafe { quantize_block(xb.as_ptr(), qb.as_mut_ptr()) };
    }
    let (mut neg_corr, mut dx_sum) = (Vec::new(), Vec::new());
    let (mut dx_half_sum, mut q_sum) = (Vec::new(), Vec::new());
    let sum = |q: &[i8]| q.iter().map(|&v| i32::from(v)).sum::<i32>();
    if let Some((half, whole)) = units::x_sums(ty) {
        if half {
            dx_half_sum = (q.chunks_exact(16).zip(dx.iter().flat_map(|&d| [d, d])))
                .map(|(h, d)| d * sum(h) as f32)
                .collect();
        }
        if whole {
            q_sum = q.chunks_exact(32).map(sum).collect();
        }
    }
    if matches!(
        ty,
        QuantType::Q4_K
            | QuantType::Q4_1
            | QuantType::Q5_1
            | QuantType::I4G32
            | QuantType::I4G64
            | QuantType::I4G128
    ) {
        // Per block of 32 in the natural order (before any arrangement below).
        dx_sum = (q.chunks_exact(32).zip(&dx))
            .map(|(qb, &d)| d * sum(qb) as f32)
            .collect();
    }
    if let Some(corr) = nib4::groups_of(ty, dot == IntDot::Vnni, x.len()) {
        neg_corr = arrange_q4_0(&mut q, dx.len(), corr);
    }
    if ty == QuantType::Q4_K && dot == IntDot::Vnni {
        // Blocks 1 and 2 of every four swap places (see QuantX::q).
        for quad in q.chunks_exact_mut(128) {
            let (a, b) = quad[32..96].split_at_mut(32);
            a.swap_with_slice(b);
        }
    }
    QuantX {
        q: Aligned::from_vec(q),
        dx: Aligned::from_vec(dx),
        neg_corr: Aligned::from_vec(neg_corr),
        dx_sum: Aligned::from_vec(dx_sum),
        dx_half_sum: Aligned::from_vec(dx_half_sum),
        q_sum: Aligned::from_vec(q_sum),
    }
}

/// One block of 32: returns `dx` and writes the 32 int8 values.
#[inline(always)]
unsafe fn quantize_block(x: *const f32, q: *mut i8) -> f32 {
    // SAFETY: the caller's pointers cover 32 values; AVX2 is enabled by the caller.
    unsafe {
        // Loops, not closures (see spread2_all).
        let mut v = [_mm256_setzero_ps(); 4];
        for (i, vi) in v.iter_mut().enumerate() {
            *vi = _mm256_loadu_ps(x.add(8 * i));
        }
        let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let mut m = _mm256_setzero_ps();
        for &vi in &v {
            m = _mm256_max_ps(m, _mm256_and_ps(vi, abs));
        }
        let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps::<1>(m, m)));
        let d = amax / 127.0;
        let id = _mm256_set1_ps(if d > 0.0 { 1.0 / d } else { 0.0 });
        let lim = _mm256_set1_ps(127.0);
        // |x·id| may round a hair past 127: clamp before converting (NaN converts to i32::MIN
        // and saturates to −128 in the packs, as garbage in is garbage out).
        let mut i = [_mm256_setzero_si256(); 4];
        for (ik, &vk) in i.iter_mut().zip(&v) {
            let s = _mm256_max_ps(
                _mm256_min_ps(_mm256_mul_ps(vk, id), lim),
                _mm256_sub_ps(_mm256_setzero_ps(), lim),
            );
            *ik = _mm256_cvtps_epi32(s);
        }
        // packs interleave 128-bit halves: [0 1 | 2 3] words → bytes in order 0,2,1,3 per
        // 32-bit group of lanes; one permute restores 0..32.
        let w01 = _mm256_packs_epi32(i[0], i[1]);
        let w23 = _mm256_packs_epi32(i[2], i[3]);
        let b = _mm256_packs_epi16(w01, w23);
        let b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(q as *mut __m256i, b);
        d
    }
}

/// Q4_0's group order of `q` (see [`QuantX::q`]) and its lane corrections.
fn arrange_q4_0(q: &mut [i8], blocks: usize, corr: i32) -> Vec<i32> {
    let natural = q.to_vec();
    let sum4 = |q: &[i8], at: usize| -> i32 { q[at..at + 4].iter().map(|&v| i32::from(v)).sum() };
    let mut neg_corr = Vec::with_capacity(blocks * 4 + 4);
    let mut first = 0;
    while first < blocks {
        let c = match blocks - first {
            r if r >= 4 => 4,
            r if r >= 2 => 2,
            _ => 1,
        };
        let base = 32 * first;
        for i in 0..c {
            let blk = &natural[base + 32 * i..base + 32 * (i + 1)];
            q[base + 16 * i..base + 16 * (i + 1)].copy_from_slice(&blk[..16]);
            q[base + 16 * (c + i)..base + 16 * (c + i + 1)].copy_from_slice(&blk[16..]);
        }
        if c == 1 {
            // One block, one product: lane l meets 4 consecutive values.
            neg_corr.extend((0..8).map(|l| -corr * sum4(q, base + 4 * l)));
        } else {
            // Lane l meets 4 low-nibble values and the 4 high-nibble ones 16·c bytes on.
            neg_corr.extend(
                (0..4 * c)
                    .map(|l| -corr * (sum4(q, base + 4 * l) + sum4(q, base + 16 * c + 4 * l))),
            );
        }
        first += c;
    }
    neg_corr
}

/// How the byte dot products are formed (the two [`IntDot`] forms).
pub(crate) trait Dot {
    /// Whether 512-bit kernels may be used (AVX-512 F, BW and VNNI are enabled).
    const ZMM: bool;
    /// Each i32 lane of `acc` plus the four products `u·s` of its bytes (`u` unsigned ≤ 128,
    /// `s` signed, so no pair of products passes i16 in the AVX2 form).
    unsafe fn dp(acc: __m256i, u: __m256i, s: __m256i) -> __m256i;
}

struct Avx2Dot;
pub(crate) struct VnniDot;

impl Dot for Avx2Dot {
    const ZMM: bool = false;
    #[inline(always)]
    unsafe fn dp(acc: __m256i, u: __m256i, s: __m256i) -> __m256i {
        // SAFETY: only inlined into functions compiled with AVX2.
        unsafe {
            let pairs = _mm256_maddubs_epi16(u, s);
            _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
        }
    }
}

impl Dot for VnniDot {
    const ZMM: bool = true;
    #[inline(always)]
    unsafe fn dp(acc: __m256i, u: __m256i, s: __m256i) -> __m256i {
        // SAFETY: only inlined into functions compiled with AVX-512 VNNI and VL.
        unsafe { _mm256_dpbusd_epi32(acc, u, s) }
    }
}

#[inline(always)]
pub(crate) fn hsum(v: __m256) -> f32 {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
    }
}

/// `a + b` with its two 256-bit halves added: the 512-bit kernels' two accumulators, ready for
/// [`hsum`].
#[inline(always)]
pub(crate) fn fold512(a: __m512, b: __m512) -> __m256 {
    // SAFETY: only inlined into functions compiled with AVX-512 F and DQ.
    unsafe {
        let s = _mm512_add_ps(a, b);
        _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps::<1>(s))
    }
}

/// The two f16 at `a` and `b` as f32 in lanes 0 and 1 (F16C: exact, subnormals included).
#[inline(always)]
pub(crate) unsafe fn f16_pair(a: *const u8, b: *const u8) -> __m128 {
    // SAFETY: the caller's pointers have two readable bytes; F16C is enabled by the caller.
    unsafe {
        let lo = u32::from(std::ptr::read_unaligned(a as *const u16));
        let hi = u32::from(std::ptr::read_unaligned(b as *const u16));
        _mm_cvtph_ps(_mm_cvtsi32_si128((lo | hi << 16) as i32))
    }
}

#[inline(always)]
pub(crate) unsafe fn load(p: *const i8) -> __m256i {
    // SAFETY: the caller's pointer has 32 readable bytes.
    unsafe { _mm256_loadu_si256(p as *const __m256i) }
}

/// Q4_0 weights against `T` tokens where the i32 lanes' x values sit at byte `lo_at` (with
/// `lo`) and `hi_at` (with `hi`, if any) of each token and their corrections at lane
/// `lane_at`; `scales[t]` is `dw·dx` per lane for token `t`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn q4_0_step<D: Dot, const T: usize>(
    acc: &mut [__m256; T],
    x: &[&QuantX; T],
    lo: __m256i,
    hi: Option<__m256i>,
    scales: &[__m256; T],
    lo_at: usize,
    hi_at: usize,
    lane_at: usize,
) {
    // SAFETY: the offsets lie inside every token's arrays (the caller's contract).
    unsafe {
        for t in 0..T {
            let xq = x[t].q.as_ptr();
            let corr = _mm256_loadu_si256(x[t].neg_corr.as_ptr().add(lane_at) as *const __m256i);
            let mut i = D::dp(corr, lo, load(xq.add(lo_at)));
            if let Some(hi) = hi {
                i = D::dp(i, hi, load(xq.add(hi_at)));
            }
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scales[t], acc[t]);
        }
    }
}

/// The nibbles of the two blocks at `b0` and `b0 + 18`: `(low, high)`, each block in one half.
#[inline(always)]
unsafe fn q4_0_nibbles2(b0: *const u8) -> (__m256i, __m256i) {
    // SAFETY: two blocks lie at `b0` (the caller's contract); AVX2 is enabled by the caller.
    unsafe {
        let m4 = _mm256_set1_epi8(0x0f);
        let v = _mm256_loadu2_m128i(b0.add(20) as *const __m128i, b0.add(2) as *const __m128i);
        (
            _mm256_and_si256(v, m4),
            _mm256_and_si256(_mm256_srli_epi16::<4>(v), m4),
        )
    }
}

/// `dw·dx` for four blocks from block `first`, per token (lanes 0..4; x's scales past its
/// end, for a group of fewer than four, are never read: `count` blocks are).
#[inline(always)]
pub(crate) unsafe fn q4_0_scales<const T: usize>(
    dw: __m128,
    x: &[&QuantX; T],
    first: usize,
    count: usize,
) -> [__m128; T] {
    // SAFETY: blocks first..first + count exist in every token; `count` is 1, 2 or 4.
    unsafe {
        let mut out = [_mm_setzero_ps(); T];
        for (o, xt) in out.iter_mut().zip(x) {
            let dx = xt.dx.as_ptr().add(first);
            let dx = match count {
                4 => _mm_loadu_ps(dx),
                2 => _mm_castpd_ps(_mm_load_sd(dx as *const f64)),
                _ => _mm_load_ss(dx),
            };
            *o = _mm_mul_ps(dw, dx);
        }
        out
    }
}

/// [`spread2`] for every token. (Helpers here are loops, not `map`/`from_fn` closures: a
/// closure is compiled without its caller's target features, so its intrinsics become calls —
/// the row-end closures alone took a quarter of Q4_0's time.)
#[inline(always)]
unsafe fn spread2_all<const T: usize>(v: &[__m128; T], a: i32, b: i32) -> [__m256; T] {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let mut out = [_mm256_setzero_ps(); T];
        for (o, &v) in out.iter_mut().zip(v) {
            *o = spread2(v, a, b);
        }
        out
    }
}

/// Lanes `[a; 4] ++ [b; 4]` of `v` (one block's scale over the four i32 lanes it owns).
#[inline(always)]
unsafe fn spread2(v: __m128, a: i32, b: i32) -> __m256 {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let idx = _mm256_setr_epi32(a, a, a, a, b, b, b, b);
        _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), idx)
    }
}

/// Q4_0's blocks after the whole groups of four: a pair (if two or three remain), then a
/// single block (if the count is odd), into `acc`.
#[inline(always)]
pub(crate) unsafe fn q4_0_tail<D: Dot, const T: usize>(
    acc: &mut [__m256; T],
    x: &[&QuantX; T],
    row: *const u8,
    nb: usize,
) {
    // SAFETY: `row` holds `nb` blocks; the tokens were arranged for Q4_0 from `32·nb` values.
    unsafe {
        let mut first = nb - nb % 4;
        let mut lane = 4 * first;
        if nb - first >= 2 {
            let b = row.add(18 * first);
            let (lo, hi) = q4_0_nibbles2(b);
            let s = q4_0_scales(f16_pair(b, b.add(18)), x, first, 2);
            let s = spread2_all(&s, 0, 1);
            q4_0_step::<D, T>(acc, x, lo, Some(hi), &s, 32 * first, 32 * first + 32, lane);
            first += 2;
            lane += 8;
        }
        if first < nb {
            // Low nibbles in the lower half, high in the upper: x in natural order.
            let b = row.add(18 * first);
            let v = _mm_loadu_si128(b.add(2) as *const __m128i);
            let w = _mm256_set_m128i(_mm_srli_epi16::<4>(v), v);
            let w = _mm256_and_si256(w, _mm256_set1_epi8(0x0f));
            let s = q4_0_scales(f16_pair(b, b), x, first, 1);
            let mut s8 = [_mm256_setzero_ps(); T];
            for (o, &v) in s8.iter_mut().zip(&s) {
                *o = _mm256_broadcastss_ps(v);
            }
            let s = s8;
            q4_0_step::<D, T>(acc, x, w, None, &s, 32 * first, 0, lane);
        }
    }
}

/// Q4_0 (`d: f16`, 16 bytes of nibbles, element `j` low and `j + 16` high) against `T` tokens
/// on 256-bit vectors: each group of four blocks as two pairs into two accumulators per token
/// (two FMA chains in flight).
#[inline(always)]
unsafe fn q4_0_row<D: Dot, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    // SAFETY: `row` holds `nb` blocks of 18 bytes; every token was arranged for Q4_0 from
    // `32·nb` values, so its q, dx and neg_corr cover every offset read here.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); T]; 2];
        for g in 0..nb / 4 {
            let b = row.add(72 * g);
            let s4 = q4_0_scales(scales4(b, 18), x, 4 * g, 4);
            let (lo, hi) = q4_0_nibbles2(b);
            let s = spread2_all(&s4, 0, 1);
            let (lo_at, hi_at) = (128 * g, 128 * g + 64);
            q4_0_step::<D, T>(&mut acc[0], x, lo, Some(hi), &s, lo_at, hi_at, 16 * g);
            let (lo, hi) = q4_0_nibbles2(b.add(36));
            let s = spread2_all(&s4, 2, 3);
            let (lo_at, hi_at) = (128 * g + 32, 128 * g + 96);
            q4_0_step::<D, T>(&mut acc[1], x, lo, Some(hi), &s, lo_at, hi_at, 16 * g + 8);
        }
        q4_0_tail::<D, T>(&mut acc[0], x, row, nb);
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            *o = hsum(_mm256_add_ps(acc[0][t], acc[1][t]));
        }
        out
    }
}

/// Q8_0 block `b` (scale `dw`) against `T` tokens. The sign trick (`|w|` unsigned, x with
/// w's sign) keeps every pair of products inside i16.
#[inline(always)]
unsafe fn q8_0_block<D: Dot, const T: usize>(
    acc: &mut [__m256; T],
    x: &[&QuantX; T],
    row: *const u8,
    b: usize,
    dw: f32,
) {
    // SAFETY: block `b` lies inside the row and every token (the caller's contract).
    unsafe {
        let w = load(row.add(34 * b + 2) as *const i8);
        let u = _mm256_sign_epi8(w, w);
        for t in 0..T {
            let xs = _mm256_sign_epi8(load(x[t].q.as_ptr().add(32 * b)), w);
            let i = D::dp(_mm256_setzero_si256(), u, xs);
            let scale = _mm256_set1_ps(dw * *x[t].dx.as_ptr().add(b));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, acc[t]);
        }
    }
}

/// Q8_0 (`d: f16`, 32 signed bytes) against `T` tokens, two blocks a round.
#[inline(always)]
unsafe fn q8_0_row<D: Dot, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    // SAFETY: `row` holds `nb` blocks of 34 bytes; every token has `32·nb` values.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); T]; 2];
        let mut b = 0;
        while b + 2 <= nb {
            let dw = f16_pair(row.add(34 * b), row.add(34 * b + 34));
            q8_0_block::<D, T>(&mut acc[0], x, row, b, _mm_cvtss_f32(dw));
            q8_0_block::<D, T>(
                &mut acc[1],
                x,
                row,
                b + 1,
                _mm_cvtss_f32(_mm_movehdup_ps(dw)),
            );
            b += 2;
        }
        if b < nb {
            let dw = f16_pair(row.add(34 * b), row.add(34 * b));
            q8_0_block::<D, T>(&mut acc[0], x, row, b, _mm_cvtss_f32(dw));
        }
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            *o = hsum(_mm256_add_ps(acc[0][t], acc[1][t]));
        }
        out
    }
}

/// Q8_0 for three or four tokens on 512-bit vectors: two blocks a vector, so each token's
/// byte products, conversion, scale and FMA are one instruction for 64 weights; AVX-512 BW
/// has no byte `sign`, so x is negated under the mask of the negative weights (x's bytes are
/// within ±127: exact). A last odd block through [`q8_0_block`].
#[inline(always)]
unsafe fn q8_0_row_zmm<const T: usize>(row: *const u8, nb: usize, x: &[&QuantX; T]) -> [f32; T] {
    // SAFETY: `row` holds `nb` blocks of 34 bytes; every token has `32·nb` values; AVX-512 F,
    // BW, DQ and VNNI are enabled by the caller.
    unsafe {
        let spread = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        let mut acc = [_mm512_setzero_ps(); T];
        let mut b = 0;
        while b + 2 <= nb {
            let (p, q) = (row.add(34 * b), row.add(34 * b + 34));
            let w = _mm512_inserti64x4::<1>(
                _mm512_castsi256_si512(load(p.add(2) as *const i8)),
                load(q.add(2) as *const i8),
            );
            let (u, neg) = (_mm512_abs_epi8(w), _mm512_movepi8_mask(w));
            let dw = f16_pair(p, q);
            for (t, a) in acc.iter_mut().enumerate() {
                let xq = _mm512_loadu_si512(x[t].q.as_ptr().add(32 * b) as *const _);
                let xs = _mm512_mask_sub_epi8(xq, neg, _mm512_setzero_si512(), xq);
                let i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xs);
                let dx = _mm_castpd_ps(_mm_load_sd(x[t].dx.as_ptr().add(b) as *const f64));
                let scale =
                    _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_mul_ps(dw, dx)));
                *a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), scale, *a);
            }
            b += 2;
        }
        let mut lone = [_mm256_setzero_ps(); T];
        if b < nb {
            let dw = f16_pair(row.add(34 * b), row.add(34 * b));
            q8_0_block::<VnniDot, T>(&mut lone, x, row, b, _mm_cvtss_f32(dw));
        }
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            *o = _mm512_reduce_add_ps(acc[t]) + hsum(lone[t]);
        }
        out
    }
}

/// Q4_K's eight 6-bit scales and eight 6-bit minimums from its 12 scale bytes, as two `u64`
/// of bytes (sub-block `j` in byte `j`): bytes 0..4 hold `sc0..3` and `m0..3` in their low 6
/// bits, bytes 8..12 the low nibbles of `sc4..7` / `m4..7`, whose top 2 bits are the spare
/// top bits of bytes 0..4 (scales) and 4..8 (minimums).
#[inline(always)]
pub(crate) fn k_scales_mins(s: [u32; 3]) -> (u64, u64) {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let sc_hi = (s[2] & LOW4) | (((s[0] >> 6) & LOW2) << 4);
    let m_hi = ((s[2] >> 4) & LOW4) | (((s[1] >> 6) & LOW2) << 4);
    (
        u64::from(s[0] & LOW6) | u64::from(sc_hi) << 32,
        u64::from(s[1] & LOW6) | u64::from(m_hi) << 32,
    )
}

/// Eight bytes as eight f32 lanes.
#[inline(always)]
pub(crate) fn bytes_to_f32(v: u64) -> __m256 {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe { _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v as i64))) }
}

/// Q4_K (`d`, `dmin`: f16, 12 scale bytes, 128 bytes of nibbles: chunk `c`'s 32 bytes hold
/// sub-block `2c` low and `2c + 1` high) against `T` tokens:
/// `Σ_j (d·sc_j)·dx_j·(q·x)_j − Σ_j (dmin·m_j)·dx_j·Σx_j`, the first per lane, the second as
/// one 8-lane product per super-block.
#[inline(always)]
unsafe fn q4_k_row<D: Dot, const T: usize>(
    row: *const u8,
    nsb: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    // SAFETY: `row` holds `nsb` blocks of 144 bytes; every token has `256·nsb` values.
    unsafe {
        let m4 = _mm256_set1_epi8(0x0f);
        let mut acc = [[_mm256_setzero_ps(); T]; 2];
        let mut mins = [_mm256_setzero_ps(); T];
        for sb in 0..nsb {
            let blk = row.add(144 * sb);
            let dd = f16_pair(blk, blk.add(2));
            let words =
                [0, 1, 2].map(|i| std::ptr::read_unaligned(blk.add(4 + 4 * i) as *const u32));
            let (sc, mn) = k_scales_mins(words);
            let sc = _mm256_mul_ps(bytes_to_f32(sc), _mm256_broadcastss_ps(dd));
            let mn = _mm256_mul_ps(bytes_to_f32(mn), _mm256_broadcastss_ps(_mm_movehdup_ps(dd)));
            let mut scales = [[0.0f32; 8]; T];
            for t in 0..T {
                let dx = _mm256_loadu_ps(x[t].dx.as_ptr().add(8 * sb));
                _mm256_storeu_ps(scales[t].as_mut_ptr(), _mm256_mul_ps(sc, dx));
                let dx_sum = _mm256_loadu_ps(x[t].dx_sum.as_ptr().add(8 * sb));
                mins[t] = _mm256_fmadd_ps(mn, dx_sum, mins[t]);
            }
            for c in 0..4 {
                let v = load(blk.add(16 + 32 * c) as *const i8);
                let halves = [
                    _mm256_and_si256(v, m4),
                    _mm256_and_si256(_mm256_srli_epi16::<4>(v), m4),
                ];
                for (h, q) in halves.into_iter().enumerate() {
                    let j = 2 * c + h;
                    for t in 0..T {
                        let xq = load(x[t].q.as_ptr().add(256 * sb + 32 * j));
                        let i = D::dp(_mm256_setzero_si256(), q, xq);
                        let scale = _mm256_broadcast_ss(&scales[t][j]);
                        acc[h][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, acc[h][t]);
                    }
                }
            }
        }
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            *o = hsum(_mm256_sub_ps(_mm256_add_ps(acc[0][t], acc[1][t]), mins[t]));
        }
        out
    }
}

/// [`q4_k_row`] with AVX-512 VNNI: 64 bytes of nibbles (four sub-blocks) per vector, the
/// token's blocks in `[0, 2, 1, 3]` order to match, each sub-block's scale spread over its
/// eight lanes by one permute.
#[inline(always)]
unsafe fn q4_k_row_zmm<const T: usize>(row: *const u8, nsb: usize, x: &[&QuantX; T]) -> [f32; T] {
    // SAFETY: `row` holds `nsb` blocks of 144 bytes; every token has `256·nsb` values arranged
    // for this kernel; AVX-512 F, BW and VNNI are enabled by the caller.
    unsafe {
        let m4 = _mm512_set1_epi8(0x0f);
        let spread =
            |a: i32, b: i32| _mm512_setr_epi32(a, a, a, a, a, a, a, a, b, b, b, b, b, b, b, b);
        // Sub-blocks (low, high) of the first and the second 64 bytes.
        let lanes = [[spread(0, 2), spread(1, 3)], [spread(4, 6), spread(5, 7)]];
        let mut acc = [[_mm512_setzero_ps(); T]; 2];
        let mut mins = [_mm256_setzero_ps(); T];
        for sb in 0..nsb {
            let blk = row.add(144 * sb);
            let dd = f16_pair(blk, blk.add(2));
            let words =
                [0, 1, 2].map(|i| std::ptr::read_unaligned(blk.add(4 + 4 * i) as *const u32));
            let (sc, mn) = k_scales_mins(words);
            let sc = _mm256_mul_ps(bytes_to_f32(sc), _mm256_broadcastss_ps(dd));
            let mn = _mm256_mul_ps(bytes_to_f32(mn), _mm256_broadcastss_ps(_mm_movehdup_ps(dd)));
            let mut scales = [_mm512_setzero_ps(); T];
            for t in 0..T {
                let dx = _mm256_loadu_ps(x[t].dx.as_ptr().add(8 * sb));
                scales[t] = _mm512_castps256_ps512(_mm256_mul_ps(sc, dx));
                let dx_sum = _mm256_loadu_ps(x[t].dx_sum.as_ptr().add(8 * sb));
                mins[t] = _mm256_fmadd_ps(mn, dx_sum, mins[t]);
            }
            for (h, lanes) in lanes.iter().enumerate() {
                let v = _mm512_loadu_si512(blk.add(16 + 64 * h) as *const _);
                let q = [
                    _mm512_and_si512(v, m4),
                    _mm512_and_si512(_mm512_srli_epi16::<4>(v), m4),
                ];
                for t in 0..T {
                    let xq = x[t].q.as_ptr().add(256 * sb + 128 * h);
                    for half in 0..2 {
                        let xv = _mm512_loadu_si512(xq.add(64 * half) as *const _);
                        let i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q[half], xv);
                        let s = _mm512_permutexvar_ps(lanes[half], scales[t]);
                        acc[half][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), s, acc[half][t]);
                    }
                }
            }
        }
        let mut out = [0.0f32; T];
        for (t, o) in out.iter_mut().enumerate() {
            *o = hsum(_mm256_sub_ps(fold512(acc[0][t], acc[1][t]), mins[t]));
        }
        out
    }
}

/// One row of W against `T` tokens, by the format's kernel.
#[inline(always)]
unsafe fn row_t<D: Dot, const T: usize>(
    ty: QuantType,
    row: &[u8],
    x: &[&QuantX; T],
    k: usize,
) -> [f32; T] {
    // SAFETY: the contract of `row_int8`; with `D::ZMM` the caller enabled AVX-512 VNNI.
    unsafe {
        if D::ZMM {
            if let Some(out) = nib4::row::<T>(ty, row, k, x) {
                return out;
            }
        }
        match ty {
            QuantType::Q4_0 => q4_0_row::<D, T>(row.as_ptr(), k / 32, x),
            QuantType::Q8_0 if D::ZMM && T >= 3 => q8_0_row_zmm::<T>(row.as_ptr(), k / 32, x),
            QuantType::Q8_0 => q8_0_row::<D, T>(row.as_ptr(), k / 32, x),
            QuantType::Q4_K if D::ZMM => q4_k_row_zmm::<T>(row.as_ptr(), k / 256, x),
            QuantType::Q4_K => q4_k_row::<D, T>(row.as_ptr(), k / 256, x),
            _ => units::row::<D, T>(ty, row.as_ptr(), k, x),
        }
    }
}

/// Up to four tokens: the const-generic kernel for that count.
#[inline(always)]
unsafe fn row_tokens<D: Dot>(ty: QuantType, row: &[u8], x: &[&QuantX], k: usize, out: &mut [f32]) {
    // SAFETY (all four): the contract of `row_int8`, with exactly T tokens.
    unsafe {
        match x.len() {
            1 => out[..1].copy_from_slice(&row_t::<D, 1>(ty, row, &[x[0]], k)),
            2 => out[..2].copy_from_slice(&row_t::<D, 2>(ty, row, &[x[0], x[1]], k)),
            3 => out[..3].copy_from_slice(&row_t::<D, 3>(ty, row, &[x[0], x[1], x[2]], k)),
            _ => out[..4].copy_from_slice(&row_t::<D, 4>(ty, row, &[x[0], x[1], x[2], x[3]], k)),
        }
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn rows_avx2(ty: QuantType, row: &[u8], x: &[&QuantX], k: usize, out: &mut [f32]) {
    // SAFETY: the contract of `row_int8`; AVX2, FMA and F16C are enabled here.
    unsafe { row_tokens::<Avx2Dot>(ty, row, x, k, out) }
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vnni,avx512vl")]
unsafe fn rows_vnni(ty: QuantType, row: &[u8], x: &[&QuantX], k: usize, out: &mut [f32]) {
    // SAFETY: the contract of `row_int8`; AVX-512 F, BW, DQ, VL and VNNI are enabled here.
    unsafe { row_tokens::<VnniDot>(ty, row, x, k, out) }
}

/// One row of W against up to four quantised tokens: `out[t] ≈ Σ_i W[i]·x_t[i]`.
///
/// # Safety
/// The CPU has what `dot` needs ([`int_dot`] returned it): AVX2, FMA and F16C, plus AVX-512
/// F, BW, DQ, VL and VNNI for [`IntDot::Vnni`]; `ty` passes [`supports`]; `row` is one row of
/// `k / block` blocks; every token was quantised for `ty` (and `dot`) from `k` values;
/// `1 ≤ x.len() ≤ 4` and `out.len() ≥ x.len()`.
pub(crate) unsafe fn row_int8(
    dot: IntDot,
    ty: QuantType,
    row: &[u8],
    x: &[&QuantX],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY: this function's contract; `dot` names the features the callee enables.
    unsafe {
        match dot {
            IntDot::Avx2 => rows_avx2(ty, row, x, k, out),
            IntDot::Vnni => rows_vnni(ty, row, x, k, out),
        }
    }
}
