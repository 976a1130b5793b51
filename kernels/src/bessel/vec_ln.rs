//! `ln` over a slice, written so the compiler vectorises it (no calls, no branches): the batch
//! kernels gather every log the uniform expansion needs into arrays and take them here, 4
//! (AVX2) or 8 (AVX-512) at a time, instead of one glibc call each.
//!
//! Method: `x = m·2^e` from the bits, `m ∈ [1/√2, √2)`, `ln m = 2 atanh(s)`,
//! `s = (m−1)/(m+1)`, `|s| ≤ 0.1716`, by its series through `s^23` (the first omitted term is
//! below 2e-17 relative), then `e·ln2` in two parts. Tested within `EPSILON·|ln x|` of libm on
//! 2e5 arguments over the whole exponent range at every SIMD level. Inputs must be positive, normal and finite: the callers check.

use crate::simd::{detected, SimdLevel};

const SQRT2: f64 = std::f64::consts::SQRT_2;
/// ln 2 split so that `e·LN2_HI` is exact for |e| < 2^21 (fdlibm's constants).
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `2/(2k+1)`, k = 1..=11.
const ATANH: [f64; 11] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
];

/// `ln x` for positive, normal, finite `x`, branch-free.
#[inline(always)]
pub(crate) fn ln_one(x: f64) -> f64 {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // m ∈ [1, 2): halve it above √2 so that m − 1 is as small as it can be.
    let big = m > SQRT2;
    let m = if big { 0.5 * m } else { m };
    let e = (exp + i64::from(big)) as f64;
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut p = ATANH[ATANH.len() - 1];
    for &c in ATANH.iter().rev().skip(1) {
        p = p * s2 + c;
    }
    e * LN2_HI + (e * LN2_LO + (2.0 * s + s * s2 * p))
}

#[inline(always)]
fn ln_body(xs: &mut [f64]) {
    for x in xs.iter_mut() {
        *x = ln_one(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn ln_avx512(xs: &mut [f64]) {
    ln_body(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn ln_avx2(xs: &mut [f64]) {
    ln_body(xs)
}

/// Replaces every element by its natural log (see the module docs for the domain).
pub(crate) fn ln_in_place(xs: &mut [f64], level: SimdLevel) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is only ever one `detected()` reported, so the CPU has AVX-512.
        SimdLevel::Avx512 => unsafe { ln_avx512(xs) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, the CPU has AVX2 and FMA.
        SimdLevel::Avx2 => unsafe { ln_avx2(xs) },
        _ => ln_body(xs),
    }
}

/// The level [`ln_in_place`] should run at on this machine.
pub(crate) fn level() -> SimdLevel {
    detected()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_one_ulp_of_libm_at_every_level() {
        let mut s = 12345u64;
        let mut xs = Vec::new();
        for _ in 0..200_000 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let e = ((s >> 33) % 2000) as i32 - 1000;
            let m = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(m * 2f64.powi(e));
        }
        xs.extend([
            1.0,
            2.0,
            0.5,
            SQRT2,
            f64::MIN_POSITIVE,
            f64::MAX,
            1.0 + 1e-15,
            1.0 - 1e-16,
        ]);
        for level in crate::simd::machine_levels() {
            let mut got = xs.clone();
            ln_in_place(&mut got, level);
            for (&x, &g) in xs.iter().zip(&got) {
                // libm is within ½ ulp; f64::EPSILON·|ln x| is 1–2 ulp of the result.
                let want = x.ln();
                assert!(
                    (g - want).abs() <= f64::EPSILON * want.abs(),
                    "{level:?}: ln({x:e}) = {g:e}, libm {want:e}"
                );
            }
        }
    }
}
