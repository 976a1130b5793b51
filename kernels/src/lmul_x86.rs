//! AVX2 L-Mul dot product: eight products a vector by the integer operations of
//! [`crate::lmul::lmul_bits`] (special values by compare masks and blends), added into one
//! 8-lane accumulator — the partial sums `s_j` of the fixed order — so the result has the
//! portable kernel's bits.

use std::arch::x86_64::*;

use crate::lmul::{combine, offset};

/// Unsigned `a ≥ b` per lane.
#[inline(always)]
unsafe fn ge_u(a: __m256i, b: __m256i) -> __m256i {
    _mm256_cmpeq_epi32(_mm256_max_epu32(a, b), a)
}

/// Each lane's bits rounded to `m` mantissa bits (`round_mantissa`).
#[inline(always)]
unsafe fn round_m(bits: __m256i, m: u32) -> __m256i {
    if m >= 23 {
        return bits;
    }
    let drop = _mm_cvtsi32_si128((23 - m) as i32);
    let exp = _mm256_set1_epi32(0x7F80_0000);
    let special = _mm256_cmpeq_epi32(_mm256_and_si256(bits, exp), exp);
    let lsb = _mm256_and_si256(_mm256_srl_epi32(bits, drop), _mm256_set1_epi32(1));
    let half = _mm256_add_epi32(_mm256_set1_epi32((1 << (22 - m)) - 1), lsb);
    let mag = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFF_FFFF));
    let r = _mm256_sll_epi32(_mm256_srl_epi32(_mm256_add_epi32(mag, half), drop), drop);
    let r = _mm256_or_si256(r, _mm256_andnot_si256(_mm256_set1_epi32(0x7FFF_FFFF), bits));
    _mm256_blendv_epi8(r, bits, special)
}

/// Eight L-Mul products (`lmul_bits` per lane).
#[inline(always)]
unsafe fn lmul8(a: __m256i, b: __m256i, m: u32) -> __m256i {
    let (a, b) = (round_m(a, m), round_m(b, m));
    let abs = _mm256_set1_epi32(0x7FFF_FFFF);
    let inf_bits = _mm256_set1_epi32(0x7F80_0000);
    let sign = _mm256_andnot_si256(abs, _mm256_xor_si256(a, b));
    let (ma, mb) = (_mm256_and_si256(a, abs), _mm256_and_si256(b, abs));
    // Magnitudes are below 2^31: signed compares are unsigned ones here.
    let nan_a = _mm256_cmpgt_epi32(ma, inf_bits);
    let nan_b = _mm256_cmpgt_epi32(mb, inf_bits);
    let inf_a = _mm256_cmpeq_epi32(ma, inf_bits);
    let inf_b = _mm256_cmpeq_epi32(mb, inf_bits);
    let min_normal = _mm256_set1_epi32(0x0080_0000);
    let zero_a = _mm256_cmpgt_epi32(min_normal, ma);
    let zero_b = _mm256_cmpgt_epi32(min_normal, mb);
    let nan = _mm256_or_si256(
        _mm256_or_si256(nan_a, nan_b),
        _mm256_or_si256(
            _mm256_and_si256(inf_a, zero_b),
            _mm256_and_si256(zero_a, inf_b),
        ),
    );
    let inf = _mm256_or_si256(inf_a, inf_b);
    let zero = _mm256_or_si256(zero_a, zero_b);
    let off = _mm256_set1_epi32(offset(m) as i32);
    let r = _mm256_add_epi32(ma, mb);
    let rel = _mm256_sub_epi32(r, off);
    let under = _mm256_xor_si256(
        ge_u(r, _mm256_add_epi32(off, min_normal)),
        _mm256_set1_epi32(-1),
    );
    // `rel` wraps when r < off: only a lane that did not underflow can overflow.
    let over = _mm256_andnot_si256(under, ge_u(rel, inf_bits));
    let signed_inf = _mm256_or_si256(sign, inf_bits);
    // Later blends take precedence, as the scalar function's early returns do.
    let mut res = _mm256_or_si256(sign, rel);
    res = _mm256_blendv_epi8(res, sign, under);
    res = _mm256_blendv_epi8(res, signed_inf, over);
    res = _mm256_blendv_epi8(res, sign, zero);
    res = _mm256_blendv_epi8(res, signed_inf, inf);
    _mm256_blendv_epi8(res, _mm256_set1_epi32(crate::lmul::NAN_BITS as i32), nan)
}

/// [`crate::lmul::lmul_dot`] with AVX2.
///
/// # Safety
/// The CPU must have AVX2; `a` and `b` equally long.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn lmul_dot(a: &[f32], b: &[f32], m: u32) -> f32 {
    let k = a.len().min(b.len());
    let mut acc = _mm256_setzero_ps();
    let (ac, bc) = (a[..k].chunks_exact(8), b[..k].chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, w) in ac.zip(bc) {
        let p = lmul8(
            _mm256_loadu_si256(x.as_ptr().cast()),
            _mm256_loadu_si256(w.as_ptr().cast()),
            m,
        );
        acc = _mm256_add_ps(acc, _mm256_castsi256_ps(p));
    }
    if !ar.is_empty() {
        let (mut x, mut w) = ([0f32; 8], [0f32; 8]);
        x[..ar.len()].copy_from_slice(ar);
        w[..br.len()].copy_from_slice(br);
        let p = lmul8(
            _mm256_loadu_si256(x.as_ptr().cast()),
            _mm256_loadu_si256(w.as_ptr().cast()),
            m,
        );
        // Missing lanes add −0.0, which leaves a partial sum's bits as they are.
        let lanes = _mm256_cmpgt_epi32(
            _mm256_set1_epi32(ar.len() as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        let p = _mm256_blendv_epi8(_mm256_castps_si256(_mm256_set1_ps(-0.0)), p, lanes);
        acc = _mm256_add_ps(acc, _mm256_castsi256_ps(p));
    }
    let mut s = [0f32; 8];
    _mm256_storeu_ps(s.as_mut_ptr(), acc);
    combine(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lmul::lmul_bits;

    #[test]
    fn lanes_match_the_scalar_function() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let mut vals: Vec<f32> = vec![
            0.0,
            -0.0,
            1e-40,
            1.0e-19,
            -1.1e-19,
            1.5,
            -1.999_999_9,
            1.8e19,
            -1.9e19,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ];
        let mut s = 1u64;
        for _ in 0..200 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            vals.push(f32::from_bits((s >> 32) as u32));
        }
        for m in [1, 2, 3, 4, 7, 22, 23] {
            for a in vals.chunks(8).filter(|c| c.len() == 8) {
                for &b in &vals {
                    let got = {
                        let mut out = [0u32; 8];
                        // SAFETY: AVX2 checked above.
                        unsafe {
                            let av = _mm256_loadu_si256(a.as_ptr().cast());
                            let bv = _mm256_set1_epi32(b.to_bits() as i32);
                            _mm256_storeu_si256(out.as_mut_ptr().cast(), lmul8(av, bv, m));
                        }
                        out
                    };
                    for (lane, &x) in a.iter().enumerate() {
                        assert_eq!(
                            got[lane],
                            lmul_bits(x.to_bits(), b.to_bits(), m),
                            "{x:e} {b:e} m={m}"
                        );
                    }
                }
            }
        }
    }
}
