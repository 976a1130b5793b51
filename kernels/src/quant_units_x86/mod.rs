//! The int8 row kernel for every integer-valued format beyond the three hand-tuned ones of
//! [`crate::quant_int8_x86`]: each format only says how to unpack 32 of its weights into one
//! 256-bit vector of signed bytes with a scale per 16 (a [`Unit`]); one generic loop
//! ([`units_row`]) meets them with the quantised token by byte dot products and applies the
//! scales per i32 lane, so the work per format is a few shifts, masks or one `vpshufb`.
//!
//! Every format here decodes, in the reference, to `s·q + o` with an integer `q` (at most 8
//! bits with its sign), an f32 scale `s` per 16 or 32 elements and an offset `o` per 16 or 32
//! (the minimum of Q4_1, Q5_1, Q2_K, Q5_K); the I4G zero point is integer and is met in i32,
//! exactly. So the only approximation is quantising x, as for the hand-tuned kernels.
//!
//! Signed weights take the sign trick (`|w|` as the unsigned operand, x given w's sign), so a
//! pair of products stays inside i16 for `vpmaddubsw` (`2·128·127 < 2¹⁵`).

use std::arch::x86_64::*;

use crate::formats::QuantType;
use crate::quant_int8_x86::{hsum, load, Dot, QuantX};

/// 32 weights of a block as the generic kernel takes them: `w_i = s_h·q_i + o_h − s_h·z`
/// for half `h` (elements `16h .. 16h + 16`).
pub(crate) struct Unit {
    /// The integers, one signed byte each, in element order.
    q: __m256i,
    /// `s_h` over the four i32 lanes of each half (lanes 0..4: elements 0..16).
    s: __m256,
    /// `o_h` in lanes 0 and 1 (zero where the format has none).
    o: __m128,
    /// An integer zero point subtracted from every `q` (I4G's `z`; 0 elsewhere).
    z: i32,
}

/// A weight format as 32-element units.
pub(crate) trait Units {
    /// Elements per block.
    const ELEMS: usize;
    /// Bytes per block.
    const BYTES: usize;
    /// Whether every `q` is ≥ 0, so the sign trick can be skipped.
    const UNSIGNED: bool = false;
    /// Whether units carry offsets `o` (the token then needs `dx·Σq` per 16).
    const OFFSET: bool = false;
    /// Whether units carry a zero point `z` (the token then needs `Σq` per 32).
    const ZERO: bool = false;
    /// Whether several tokens meet the units in pairs on 512-bit vectors ([`units_row_zmm`]):
    /// only where that measured faster (the 256-element formats with cheap scale heads; the
    /// table look-ups of IQ4_XS, I4G's zero points and NVFP4's two-unit blocks did not gain).
    const PAIRS: bool = false;
    /// What a block decodes once for all its units (scales).
    type Head: Copy;
    /// The block's shared fields.
    unsafe fn head(blk: *const u8) -> Self::Head;
    /// Unit `u` of the block (`0 ≤ u < ELEMS / 32`).
    unsafe fn unit(blk: *const u8, head: &Self::Head, u: usize) -> Unit;
}

mod exact;
mod formats;

pub(crate) use exact::{decode_row, row_exact};
use formats::*;

/// Whether the generic kernel serves `ty`.
pub(crate) fn supports(ty: QuantType) -> bool {
    x_sums(ty).is_some()
}

/// For a format [`supports`] accepts: whether its tokens need `dx·Σq` per 16 (offsets) and
/// `Σq` per 32 (zero points).
pub(crate) fn x_sums(ty: QuantType) -> Option<(bool, bool)> {
    /// The two flags of a format.
    struct Flags;
    impl RowKernel for Flags {
        type Out = (bool, bool);
        unsafe fn run<F: Units>(self) -> (bool, bool) {
            (F::OFFSET, F::ZERO)
        }
    }
    // SAFETY: `Flags` reads two constants and touches no memory.
    unsafe { try_dispatch(ty, Flags) }
}

/// Where each token's arrays start, read once per row (through `QuantX` inside the loop LLVM
/// reloaded them for every unit).
struct Tokens<const T: usize> {
    q: [*const i8; T],
    dx: [*const f32; T],
    half_sum: [*const f32; T],
    q_sum: [*const i32; T],
}

/// Unit `u` (the `g`-th of the row) of the block at `b` against `T` tokens, into one of the
/// row's two accumulator sets.
#[inline(always)]
unsafe fn step<F: Units, D: Dot, const T: usize>(
    acc: &mut ([__m256; T], [__m128; T]),
    x: &Tokens<T>,
    b: *const u8,
    head: &F::Head,
    u: usize,
    g: usize,
) {
    // SAFETY: the contract of `units_row`: unit `g` exists in the row and in every token.
    unsafe {
        let unit = F::unit(b, head, u);
        let (uq, sign) = if F::UNSIGNED {
            (unit.q, None)
        } else {
            (_mm256_sign_epi8(unit.q, unit.q), Some(unit.q))
        };
        for t in 0..T {
            let mut xq = load(x.q[t].add(32 * g));
            if let Some(w) = sign {
                xq = _mm256_sign_epi8(xq, w);
            }
            let mut i = _mm256_setzero_si256();
            if F::ZERO {
                let zsum = -unit.z * *x.q_sum[t].add(g);
                i = _mm256_castsi128_si256(_mm_cvtsi32_si128(zsum));
            }
            let i = D::dp(i, uq, xq);
            let scale = _mm256_mul_ps(unit.s, _mm256_set1_ps(*x.dx[t].add(g)));
            acc.0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), scale, acc.0[t]);
            if F::OFFSET {
                let hs = _mm_castpd_ps(_mm_load_sd(x.half_sum[t].add(2 * g) as *const f64));
                acc.1[t] = _mm_fmadd_ps(unit.o, hs, acc.1[t]);
            }
        }
    }
}

/// Units at `(pa, ua)` and `(pb, ub)` (the `g`-th and `g + 1`-th of the row) against `T`
/// tokens as one 512-bit vector: half the dot-product, conversion, scale and FMA instructions
/// of two [`step`]s, and one 64-byte load of each token's bytes.
/// AVX-512 BW has no byte `sign`: `|q|` by `abs`, x negated under the mask of negative `q`
/// (x's bytes are within ±127, so the negation is exact). No zero point (`Units::ZERO`).
#[inline(always)]
unsafe fn step2<F: Units, const T: usize>(
    acc: &mut ([__m512; T], [__m128; T]),
    x: &Tokens<T>,
    (pa, ha, ua): (*const u8, &F::Head, usize),
    (pb, hb, ub): (*const u8, &F::Head, usize),
    g: usize,
    spread: __m512i,
) {
    // SAFETY: the contract of `units_row`: units `g` and `g + 1` exist in the row and in
    // every token; AVX-512 F, BW, DQ and VNNI are enabled by the caller.
    unsafe {
        let (a, b) = (F::unit(pa, ha, ua), F::unit(pb, hb, ub));
        let q = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(a.q), b.q);
        let s = _mm512_insertf32x8::<1>(_mm512_castps256_ps512(a.s), b.s);
        let o = _mm_movelh_ps(a.o, b.o);
        let (uq, neg) = if F::UNSIGNED {
            (q, 0)
        } else {
            (_mm512_abs_epi8(q), _mm512_movepi8_mask(q))
        };
        for t in 0..T {
            let mut xq = _mm512_loadu_si512(x.q[t].add(32 * g) as *const _);
            if !F::UNSIGNED {
                xq = _mm512_mask_sub_epi8(xq, neg, _mm512_setzero_si512(), xq);
            }
            let i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), uq, xq);
            // dx of unit g in the low eight lanes, of unit g + 1 in the high eight.
            let dx = _mm_castpd_ps(_mm_load_sd(x.dx[t].add(g) as *const f64));
            let dx = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(dx));
            let scale = _mm512_mul_ps(s, dx);
            acc.0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), scale, acc.0[t]);
            if F::OFFSET {
                let hs = _mm_loadu_ps(x.half_sum[t].add(2 * g));
                acc.1[t] = _mm_fmadd_ps(o, hs, acc.1[t]);
            }
        }
    }
}

/// One row of `nb` blocks of format `F` against `T` tokens: per unit, the byte dot products
/// in i32 lanes (minus `z·Σq` in lane 0), converted once and scaled per lane by `s·dx`;
/// offsets meet `dx·Σq` per 16 in two more lanes. Units alternate between two sets of
/// accumulators (pairs of units within a block, or pairs of blocks of one unit), so two
/// chains of FMAs are in flight. Three or four tokens of a [`Units::PAIRS`] format take the
/// 512-bit form, [`units_row_zmm`].
#[inline(always)]
pub(crate) unsafe fn units_row<F: Units, D: Dot, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    // SAFETY: `row` holds `nb` blocks of `F`; every token has `F::ELEMS·nb` values with the
    // sums `x_sums` asks for; AVX2, FMA and F16C are enabled by the caller.
    unsafe {
        let x = &Tokens {
            q: x.map(|t| t.q.as_ptr()),
            dx: x.map(|t| t.dx.as_ptr()),
            half_sum: x.map(|t| t.dx_half_sum.as_ptr()),
            q_sum: x.map(|t| t.q_sum.as_ptr()),
        };
        let per = F::ELEMS / 32;
        let zero = ([_mm256_setzero_ps(); T], [_mm_setzero_ps(); T]);
        let (mut a, mut b) = (zero, zero);
        if D::ZMM && T >= 3 && F::PAIRS && !F::ZERO {
            return units_row_zmm::<F, T>(row, nb, x);
        }
        if per == 1 {
            let mut blk = 0;
            while blk + 2 <= nb {
                let (p, q) = (row.add(F::BYTES * blk), row.add(F::BYTES * (blk + 1)));
                step::<F, D, T>(&mut a, x, p, &F::head(p), 0, blk);
                step::<F, D, T>(&mut b, x, q, &F::head(q), 0, blk + 1);
                blk += 2;
            }
            if blk < nb {
                let p = row.add(F::BYTES * blk);
                step::<F, D, T>(&mut a, x, p, &F::head(p), 0, blk);
            }
        } else {
            for blk in 0..nb {
                let p = row.add(F::BYTES * blk);
                let head = F::head(p);
                for u in (0..per).step_by(2) {
                    step::<F, D, T>(&mut a, x, p, &head, u, blk * per + u);
                    step::<F, D, T>(&mut b, x, p, &head, u + 1, blk * per + u + 1);
                }
            }
        }
        // A loop, not a closure: a closure is compiled without the caller's target features.
        let mut out = [0.0f32; T];
        for (t, r) in out.iter_mut().enumerate() {
            let o = _mm_add_ps(a.1[t], b.1[t]);
            let o = _mm_cvtss_f32(_mm_add_ss(o, _mm_movehdup_ps(o)));
            *r = hsum(_mm256_add_ps(a.0[t], b.0[t])) + o;
        }
        out
    }
}

/// [`units_row`] on 512-bit vectors for three or four tokens and the formats with
/// [`Units::PAIRS`] (AVX-512 F, BW, DQ and VNNI enabled by the caller): a block's head decoded
/// once, its units in pairs through [`step2`], the pairs alternating between two accumulator
/// sets. With one or two tokens, and for the one-unit blocks (their decode is most of their
/// cost), it measured slower or no faster (`quant_speed 4096 4096 m=M FORMAT`).
#[inline(always)]
unsafe fn units_row_zmm<F: Units, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &Tokens<T>,
) -> [f32; T] {
    // SAFETY: the contract of `units_row`.
    unsafe {
        let spread = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        let zero = ([_mm512_setzero_ps(); T], [_mm_setzero_ps(); T]);
        let (mut a, mut b) = (zero, zero);
        let per = F::ELEMS / 32;
        debug_assert!(per % 4 == 0, "units in two pairs");
        for blk in 0..nb {
            let p = row.add(F::BYTES * blk);
            let h = F::head(p);
            let g = blk * per;
            for u in (0..per).step_by(4) {
                step2::<F, T>(&mut a, x, (p, &h, u), (p, &h, u + 1), g + u, spread);
                step2::<F, T>(&mut b, x, (p, &h, u + 2), (p, &h, u + 3), g + u + 2, spread);
            }
        }
        let mut out = [0.0f32; T];
        for (t, r) in out.iter_mut().enumerate() {
            // The pairs' offsets fill all four lanes.
            let o = _mm_add_ps(a.1[t], b.1[t]);
            let o = _mm_add_ps(o, _mm_movehl_ps(o, o));
            let o = _mm_cvtss_f32(_mm_add_ss(o, _mm_movehdup_ps(o)));
            *r = _mm512_reduce_add_ps(_mm512_add_ps(a.0[t], b.0[t])) + o;
        }
        out
    }
}

/// A row kernel generic over the format, run by [`dispatch`] for a [`QuantType`].
pub(crate) trait RowKernel {
    /// What one row gives (the `T` tokens' sums).
    type Out;
    /// The kernel for format `F`.
    ///
    /// # Safety
    /// As the kernel's own contract, with `F` the layout of its row.
    unsafe fn run<F: Units>(self) -> Self::Out;
}

/// `kernel` for the format `ty`, or `None` where the generic kernel has no unit for `ty` (the
/// one list of this kernel's formats).
///
/// # Safety
/// As `kernel`'s contract, with `ty` naming the layout of its row.
#[inline(always)]
unsafe fn try_dispatch<K: RowKernel>(ty: QuantType, kernel: K) -> Option<K::Out> {
    use QuantType as Q;
    // SAFETY: the caller's contract, with `ty` naming the layout.
    unsafe {
        match ty {
            Q::Q4_1 => Some(kernel.run::<Q4_1>()),
            Q::Q5_0 => Some(kernel.run::<Q5_0>()),
            Q::Q5_1 => Some(kernel.run::<Q5_1>()),
            Q::IQ4_NL => Some(kernel.run::<Iq4Nl>()),
            Q::IQ4_XS => Some(kernel.run::<Iq4Xs>()),
            Q::MXFP4 => Some(kernel.run::<Mxfp4>()),
            Q::NVFP4 => Some(kernel.run::<Nvfp4>()),
            Q::Q2_K => Some(kernel.run::<Q2K>()),
            Q::Q3_K => Some(kernel.run::<Q3K>()),
            Q::Q5_K => Some(kernel.run::<Q5K>()),
            Q::Q6_K => Some(kernel.run::<Q6K>()),
            Q::TQ1_0 => Some(kernel.run::<Tq1>()),
            Q::TQ2_0 => Some(kernel.run::<Tq2>()),
            Q::I4G32 => Some(kernel.run::<I4g<32>>()),
            Q::I4G64 => Some(kernel.run::<I4g<64>>()),
            Q::I4G128 => Some(kernel.run::<I4g<128>>()),
            _ => None,
        }
    }
}

/// `kernel` for the format `ty` ([`supports`] accepts it).
///
/// # Safety
/// As `kernel`'s contract, with `ty` naming the layout of its row.
#[inline(always)]
pub(crate) unsafe fn dispatch<K: RowKernel>(ty: QuantType, kernel: K) -> K::Out {
    // SAFETY: the caller's contract.
    unsafe { try_dispatch(ty, kernel) }.expect("supports() was checked")
}

/// The int8 row of `k` elements at `row` against `T` quantised tokens, through [`units_row`].
struct Int8Row<'a, D, const T: usize> {
    row: *const u8,
    k: usize,
    x: &'a [&'a QuantX; T],
    dot: std::marker::PhantomData<D>,
}

impl<D: Dot, const T: usize> RowKernel for Int8Row<'_, D, T> {
    type Out = [f32; T];
    #[inline(always)]
    unsafe fn run<F: Units>(self) -> [f32; T] {
        // SAFETY: the contract of `row`.
        unsafe { units_row::<F, D, T>(self.row, self.k / F::ELEMS, self.x) }
    }
}

/// [`units_row`] for `ty` (one [`supports`] accepts).
#[inline(always)]
pub(crate) unsafe fn row<D: Dot, const T: usize>(
    ty: QuantType,
    row: *const u8,
    k: usize,
    x: &[&QuantX; T],
) -> [f32; T] {
    let kernel = Int8Row::<D, T> {
        row,
        k,
        x,
        dot: std::marker::PhantomData,
    };
    // SAFETY: the caller's contract (`row_int8`), with `ty` naming the layout of `row`.
    unsafe { dispatch(ty, kernel) }
}
