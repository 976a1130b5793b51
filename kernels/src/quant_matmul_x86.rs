//! AVX2 + FMA row kernels for the common formats (Q4_0, Q8_0, Q4_K) and FP8 (which has no
//! integer form; E4M3 and E5M2 become f16 by shifts, then f32 by F16C): each block is decoded
//! to exact f32 weights in registers (the same values the reference decoder gives: integer
//! times an f16-derived scale, with the K-quants' one subtraction fused) and dotted with up to
//! four tokens at once. f32 accumulation, so results stay within the f32 matmul bound.

use std::arch::x86_64::*;

use crate::formats::kquants::k_scale_min;
use crate::formats::plain::f16_at;
use crate::formats::QuantType;

/// Largest number of tokens one pass over a row serves.
pub(crate) const MAX_TOKENS: usize = 4;

/// Whether a row kernel exists here for `ty`.
pub(crate) fn supports(ty: QuantType) -> bool {
    use QuantType as Q;
    matches!(ty, Q::Q4_0 | Q::Q8_0 | Q::Q4_K | Q::F8E4M3 | Q::F8E5M2)
}

/// Eight FP8 codes (the low 8 bytes of `v`) as f16 bits, exactly: E5M2 is the top byte of an
/// f16 (infinities and NaN included); E4M3's magnitude one bit lower is an f16 of its value
/// times 2⁻⁸ (subnormals included: both have the same spacing after the shift), so the caller
/// multiplies by 2⁸ (exact). E4M3's NaN code is not mapped here (see [`e4m3_nan_free`]).
#[target_feature(enable = "avx2,fma,f16c")]
fn fp8x8_to_f16(v: __m128i, e4m3: bool) -> __m128i {
    let high = _mm_unpacklo_epi8(_mm_setzero_si128(), v);
    if !e4m3 {
        return high;
    }
    // Arithmetic shift: the sign stays in bit 15 and is copied into bit 14, which is cleared.
    _mm_and_si128(_mm_srai_epi16::<1>(high), _mm_set1_epi16(!0x4000))
}

/// The scale of the FP8 block at `block` as the row kernels apply it to a code's f16 value `v`
/// (E4M3's is its value times 2⁻⁸, see [`fp8x8_to_f16`]): `(scale, lift, Some(scale·lift))`
/// when `v·(scale·lift)` is the reference decoder's `scale·value` rounded once — the product
/// is finite, or the scale itself is not — else `None`, and the kernel forms `(v·lift)·scale`.
#[inline(always)]
pub(crate) fn fp8_block_scale(block: &[u8], e4m3: bool) -> (f32, f32, Option<f32>) {
    let scale = f32::from_le_bytes([block[0], block[1], block[2], block[3]]);
    let lift = if e4m3 { 256.0 } else { 1.0 };
    (scale, lift, fp8_one_step_scale(scale, lift))
}

/// `Some(scale·lift)` when `v·(scale·lift)` rounds once, as the reference's `scale·value`
/// does: the lifted scale is finite (lift is a power of two) or the scale itself is not.
#[inline(always)]
pub(crate) fn fp8_one_step_scale(scale: f32, lift: f32) -> Option<f32> {
    let lifted = scale * lift;
    (lifted.is_finite() || !scale.is_finite()).then_some(lifted)
}

/// Whether none of the 32 E4M3 codes at `p` is NaN (`S.1111.111`).
#[target_feature(enable = "avx2,fma,f16c")]
fn e4m3_nan_free(p: &[u8]) -> bool {
    // SAFETY: 32 readable bytes (the caller passes a block's codes).
    let v = unsafe { _mm256_loadu_si256(p[..32].as_ptr() as *const __m256i) };
    let m = _mm256_set1_epi8(0x7f);
    _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(v, m), m)) == 0
}

/// [`fp8x8_to_f16`]'s E4M3 bits `h` of the codes `v` with the NaN codes made f16 NaN.
#[target_feature(enable = "avx2,fma,f16c")]
fn e4m3_nans(h: __m128i, v: __m128i) -> __m128i {
    let m = _mm_set1_epi16(0x7f);
    let nan = _mm_cmpeq_epi16(_mm_and_si128(_mm_cvtepu8_epi16(v), m), m);
    _mm_blendv_epi8(h, _mm_set1_epi16(0x7e00), nan)
}

#[target_feature(enable = "avx2,fma,f16c")]
fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

/// 8 bytes (unsigned) at the low half of `v` as f32.
#[target_feature(enable = "avx2,fma,f16c")]
fn u8x8_to_f32(v: __m128i) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v))
}

/// `acc[t][lane] += w·x_t[at .. at + 8]` for every token. Four accumulators per token (one per
/// 8-wide part of a 32-element chunk) keep four independent FMA chains in flight; `T` is a
/// constant so they stay in registers.
#[inline(always)]
fn fma_tokens<const T: usize>(
    acc: &mut [[__m256; 4]; T],
    lane: usize,
    w: __m256,
    x: &[&[f32]; T],
    at: usize,
) {
    for t in 0..T {
        // SAFETY: callers pass `at + 8 ≤ k = x[t].len()` (whole blocks of the row); this is
        // only inlined into functions compiled with AVX2 + FMA.
        unsafe {
            let xv = _mm256_loadu_ps(x[t].as_ptr().add(at));
            acc[t][lane] = _mm256_fmadd_ps(w, xv, acc[t][lane]);
        }
    }
}

/// One row of W (`row`, whole blocks of `ty`) against up to [`MAX_TOKENS`] token rows `x`
/// (each `k` long): `out[t] = Σ_i W[i]·x_t[i]`.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C; `row` holds `k / block` blocks of `ty`, every `x[t]` has
/// `k` elements, `x.len() ≤ MAX_TOKENS ≤ out.len()`, and `ty` is one [`supports`] accepts.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn row_dot(ty: QuantType, row: &[u8], x: &[&[f32]], k: usize, out: &mut [f32]) {
    // SAFETY (all four): forwarded from this function's contract; the slices have T rows.
    unsafe {
        match x.len() {
            1 => row_dot_t::<1>(ty, row, &[x[0]], k, out),
            2 => row_dot_t::<2>(ty, row, &[x[0], x[1]], k, out),
            3 => row_dot_t::<3>(ty, row, &[x[0], x[1], x[2]], k, out),
            _ => row_dot_t::<4>(ty, row, &[x[0], x[1], x[2], x[3]], k, out),
        }
    }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn row_dot_t<const T: usize>(
    ty: QuantType,
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    let mut acc = [[_mm256_setzero_ps(); 4]; T];
    let p = row.as_ptr();
    match ty {
        QuantType::Q4_0 => {
            let eight = _mm256_set1_ps(8.0);
            let mask = _mm_set1_epi8(0x0f);
            for b in 0..k / 32 {
                let d = _mm256_set1_ps(f16_at(row, b * 18));
                // SAFETY: block b's 16 quant bytes lie at 18b + 2 .. 18b + 18 < row.len().
                let qs = unsafe { _mm_loadu_si128(p.add(b * 18 + 2) as *const __m128i) };
                let lo = _mm_and_si128(qs, mask);
                let hi = _mm_and_si128(_mm_srli_epi16::<4>(qs), mask);
                let parts = [lo, _mm_srli_si128::<8>(lo), hi, _mm_srli_si128::<8>(hi)];
                for (i, part) in parts.into_iter().enumerate() {
                    let w = _mm256_mul_ps(_mm256_sub_ps(u8x8_to_f32(part), eight), d);
                    fma_tokens(&mut acc, i, w, x, 32 * b + 8 * i);
                }
            }
        }
        QuantType::Q8_0 => {
            for b in 0..k / 32 {
                let d = _mm256_set1_ps(f16_at(row, b * 34));
                for i in 0..4 {
                    // SAFETY: 8 of block b's 32 quant bytes, inside 34b + 2 .. 34b + 34.
                    let q = unsafe { _mm_loadl_epi64(p.add(b * 34 + 2 + 8 * i) as *const __m128i) };
                    let w = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
                    fma_tokens(&mut acc, i, w, x, 32 * b + 8 * i);
                }
            }
        }
        QuantType::Q4_K => {
            let mask = _mm_set1_epi8(0x0f);
            for b in 0..k / 256 {
                let blk = &row[b * 144..(b + 1) * 144];
                let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
                for c in 0..4 {
                    // SAFETY: the 32 quant bytes of sub-block pair c, 16 + 32c .. 48 + 32c ≤ 144.
                    let q0 =
                        unsafe { _mm_loadu_si128(blk.as_ptr().add(16 + 32 * c) as *const __m128i) };
                    // SAFETY: as above, the second 16 of those 32 bytes.
                    let q1 =
                        unsafe { _mm_loadu_si128(blk.as_ptr().add(32 + 32 * c) as *const __m128i) };
                    for t in 0..2 {
                        let j = 2 * c + t;
                        let (sc, mn) = k_scale_min(&blk[4..16], j);
                        let ds = _mm256_set1_ps(d * f32::from(sc));
                        let ndm = _mm256_set1_ps(-(dmin * f32::from(mn)));
                        let (a, bq) = if t == 0 {
                            (_mm_and_si128(q0, mask), _mm_and_si128(q1, mask))
                        } else {
                            (
                                _mm_and_si128(_mm_srli_epi16::<4>(q0), mask),
                                _mm_and_si128(_mm_srli_epi16::<4>(q1), mask),
                            )
                        };
                        let parts = [a, _mm_srli_si128::<8>(a), bq, _mm_srli_si128::<8>(bq)];
                        for (i, part) in parts.into_iter().enumerate() {
                            // (d·sc)·q is exact, so one rounding, as the reference decoder.
                            let w = _mm256_fmadd_ps(ds, u8x8_to_f32(part), ndm);
                            fma_tokens(&mut acc, i, w, x, 256 * b + 32 * j + 8 * i);
                        }
                    }
                }
            }
        }
        QuantType::F8E4M3 | QuantType::F8E5M2 => {
            // Block: the row's f32 scale, then 32 codes; `w = scale·v`, one rounding, as the
            // reference decoder. E4M3 values come scaled by 2⁻⁸ and meet `scale·2⁸` (exact
            // while finite; else `(v·2⁸)·scale`); NaN codes are mapped only in blocks that
            // have one (real weights never do).
            let e4m3 = ty == QuantType::F8E4M3;
            for b in 0..k / 32 {
                let at = b * 36;
                let (raw, lift, one_step) = fp8_block_scale(&row[at..], e4m3);
                let nans = e4m3 && !e4m3_nan_free(&row[at + 4..at + 36]);
                for i in 0..4 {
                    // SAFETY: 8 of block b's 32 codes, inside 36b + 4 .. 36b + 36.
                    let c = unsafe { _mm_loadl_epi64(p.add(at + 4 + 8 * i) as *const __m128i) };
                    let mut h = fp8x8_to_f16(c, e4m3);
                    if nans {
                        h = e4m3_nans(h, c);
                    }
                    let v = _mm256_cvtph_ps(h);
                    let w = match one_step {
                        Some(s) => _mm256_mul_ps(v, _mm256_set1_ps(s)),
                        None => _mm256_mul_ps(
                            _mm256_mul_ps(v, _mm256_set1_ps(lift)),
                            _mm256_set1_ps(raw),
                        ),
                    };
                    fma_tokens(&mut acc, i, w, x, 32 * b + 8 * i);
                }
            }
        }
        _ => unreachable!("supports() was checked"),
    }
    for (o, a) in out.iter_mut().zip(acc.iter()) {
        *o = hsum(_mm256_add_ps(
            _mm256_add_ps(a[0], a[1]),
            _mm256_add_ps(a[2], a[3]),
        ));
    }
}
