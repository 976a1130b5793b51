//! The exact path for the formats of the generic kernel: each unit's integers become f32 and
//! then weights by one FMA, `w = s·q + o` (`(q − z)·s` for I4G), which is the reference
//! decoder's value bit for bit — its products `s·q` are exact or rounded once as here, and its
//! one add is the FMA's one rounding — then meet f32 x by FMAs, four accumulators a token.

use std::arch::x86_64::*;

use super::{dispatch, RowKernel, Unit, Units};
use crate::formats::QuantType;

/// The unit's 32 weights, eight a vector: `q` to f32 (less `z` first, in i32), times the
/// half's scale plus its offset by one FMA.
#[inline(always)]
unsafe fn unit_weights<F: Units>(unit: &Unit) -> [__m256; 4] {
    // SAFETY: AVX2 and FMA are enabled by the caller.
    unsafe {
        // Scale and offset of each half (elements 0..15, 16..31) over all eight lanes.
        // Loops and literals, not closures: a closure is compiled without the caller's target
        // features, so its intrinsics become calls.
        let s = [
            _mm256_permutevar8x32_ps(unit.s, _mm256_set1_epi32(0)),
            _mm256_permutevar8x32_ps(unit.s, _mm256_set1_epi32(4)),
        ];
        let o = [
            _mm256_broadcastss_ps(unit.o),
            _mm256_broadcastss_ps(_mm_movehdup_ps(unit.o)),
        ];
        let halves = [
            _mm256_castsi256_si128(unit.q),
            _mm256_extracti128_si256::<1>(unit.q),
        ];
        let mut w = [_mm256_setzero_ps(); 4];
        for (p, wp) in w.iter_mut().enumerate() {
            let half = halves[p / 2];
            let bytes = if p.is_multiple_of(2) {
                half
            } else {
                _mm_srli_si128::<8>(half)
            };
            let mut i = _mm256_cvtepi8_epi32(bytes);
            if F::ZERO {
                i = _mm256_sub_epi32(i, _mm256_set1_epi32(unit.z));
            }
            let f = _mm256_cvtepi32_ps(i);
            *wp = if F::OFFSET {
                _mm256_fmadd_ps(f, s[p / 2], o[p / 2])
            } else {
                _mm256_mul_ps(f, s[p / 2])
            };
        }
        w
    }
}

/// One row of `nb` blocks of `F` against `T` f32 token rows.
#[inline(always)]
unsafe fn exact_row<F: Units, const T: usize>(
    row: *const u8,
    nb: usize,
    x: &[&[f32]; T],
) -> [f32; T] {
    // SAFETY: `row` holds `nb` blocks of `F`; every token has `F::ELEMS·nb` values; AVX2, FMA
    // and F16C are enabled by the caller.
    unsafe {
        let per = F::ELEMS / 32;
        let mut acc = [[_mm256_setzero_ps(); 4]; T];
        for blk in 0..nb {
            let b = row.add(F::BYTES * blk);
            let head = F::head(b);
            for u in 0..per {
                let w = unit_weights::<F>(&F::unit(b, &head, u));
                let at = F::ELEMS * blk + 32 * u;
                for (p, &w) in w.iter().enumerate() {
                    for (a, xt) in acc.iter_mut().zip(x) {
                        let xv = _mm256_loadu_ps(xt.as_ptr().add(at + 8 * p));
                        a[p] = _mm256_fmadd_ps(w, xv, a[p]);
                    }
                }
            }
        }
        let mut out = [0.0f32; T];
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = super::hsum(_mm256_add_ps(
                _mm256_add_ps(a[0], a[1]),
                _mm256_add_ps(a[2], a[3]),
            ));
        }
        out
    }
}

/// [`exact_row`] for one format.
struct ExactRow<'a, const T: usize> {
    row: *const u8,
    k: usize,
    x: &'a [&'a [f32]; T],
}

impl<const T: usize> RowKernel for ExactRow<'_, T> {
    type Out = [f32; T];
    #[inline(always)]
    unsafe fn run<F: Units>(self) -> [f32; T] {
        // SAFETY: the contract of `row_exact`.
        unsafe { exact_row::<F, T>(self.row, self.k / F::ELEMS, self.x) }
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn tokens<const T: usize>(ty: QuantType, row: &[u8], x: &[&[f32]; T], k: usize) -> [f32; T] {
    let kernel = ExactRow::<T> {
        row: row.as_ptr(),
        k,
        x,
    };
    // SAFETY: the contract of `row_exact`.
    unsafe { dispatch(ty, kernel) }
}

/// One row of W in `ty` (a format [`super::supports`] accepts) against up to four f32 token
/// rows: `out[t] = Σ_i W[i]·x_t[i]` with W decoded exactly.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `row` holds `k / block` blocks of `ty`; every `x[t]` has `k`
/// elements; `1 ≤ x.len() ≤ 4 ≤ out.len()`.
pub(crate) unsafe fn row_exact(ty: QuantType, row: &[u8], x: &[&[f32]], k: usize, out: &mut [f32]) {
    // SAFETY (all four): this function's contract, with exactly T tokens.
    unsafe {
        match x.len() {
            1 => out[..1].copy_from_slice(&tokens::<1>(ty, row, &[x[0]], k)),
            2 => out[..2].copy_from_slice(&tokens::<2>(ty, row, &[x[0], x[1]], k)),
            3 => out[..3].copy_from_slice(&tokens::<3>(ty, row, &[x[0], x[1], x[2]], k)),
            _ => out[..4].copy_from_slice(&tokens::<4>(ty, row, &[x[0], x[1], x[2], x[3]], k)),
        }
    }
}

/// One row decoded to f32 (the reference decoder's values), for the prefill panels.
struct DecodeRow<'a> {
    row: *const u8,
    out: &'a mut [f32],
}

impl RowKernel for DecodeRow<'_> {
    type Out = ();
    #[inline(always)]
    unsafe fn run<F: Units>(self) {
        // SAFETY: the contract of `decode_row`: `row` holds `out.len() / F::ELEMS` blocks.
        unsafe {
            for blk in 0..self.out.len() / F::ELEMS {
                let b = self.row.add(F::BYTES * blk);
                let head = F::head(b);
                for u in 0..F::ELEMS / 32 {
                    let w = unit_weights::<F>(&F::unit(b, &head, u));
                    let at = self.out.as_mut_ptr().add(F::ELEMS * blk + 32 * u);
                    for (p, &w) in w.iter().enumerate() {
                        _mm256_storeu_ps(at.add(8 * p), w);
                    }
                }
            }
        }
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn decode_avx2(ty: QuantType, row: &[u8], out: &mut [f32]) {
    let kernel = DecodeRow {
        row: row.as_ptr(),
        out,
    };
    // SAFETY: the contract of `decode_row`.
    unsafe { dispatch(ty, kernel) }
}

/// Decodes one row of W in `ty` (a format [`super::supports`] accepts) into `out` (its `k`
/// values), exactly as the reference decoder.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `row` holds `out.len() / block` blocks of `ty`.
pub(crate) unsafe fn decode_row(ty: QuantType, row: &[u8], out: &mut [f32]) {
    // SAFETY: this function's contract.
    unsafe { decode_avx2(ty, row, out) }
}
