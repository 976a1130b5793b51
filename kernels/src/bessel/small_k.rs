//! `log K_v(x)` for `√(v²+x²) < 30`: `K_u` and `K_{u+1}` at `u = v − round(v) ∈ [−½, ½]` from
//! Temme's series (`x ≤ 2`) or Steed's continued fraction CF2 (`x > 2`), then the upward
//! recurrence `K_{u+k+1} = 2(u+k)/x·K_{u+k} + K_{u+k−1}`, which is stable for K.
//!
//! The recurrence runs on `ρ_k = x·K_{u+k+1}/K_{u+k} = 2(u+k) + x²/ρ_{k−1}` so that nothing
//! overflows even at x = 1e-300, and `log K_v = log K_u + Σ_k (ln ρ_k − ln x)`.
//! Sources: Temme, J. Comput. Phys. 19 (1975) 324; Thompson & Barnett, J. Comput. Phys. 64
//! (1986) 490; the same split as Boost.Math's `bessel_ik`.

use super::gamma::temme_gammas;
use super::log_product::LogProduct;
use std::f64::consts::PI;

/// `sinh(σ)/σ`: its series below ½ (where `(e^σ − e^−σ)/2σ` would cancel), else from `e = e^σ`.
#[inline(always)]
fn sinh_ratio(sigma: f64, e: f64) -> f64 {
    if sigma.abs() < 0.5 {
        // Through σ¹²/13!: the first omitted term is below 6e-17 at |σ| = ½.
        let s2 = sigma * sigma;
        let c = [
            1.0 / 6.0,
            1.0 / 120.0,
            1.0 / 5040.0,
            1.0 / 362_880.0,
            1.0 / 39_916_800.0,
            1.0 / 6_227_020_800.0,
        ];
        1.0 + s2 * c.iter().rev().fold(0.0, |acc, &ci| acc * s2 + ci)
    } else {
        (e - 1.0 / e) / (2.0 * sigma)
    }
}

/// `(ln K_u(x), x·K_{u+1}(x)/K_u(x))` by Temme's series, `|u| ≤ ½`, `0 < x ≤ 2`.
#[inline(always)]
fn temme(u: f64, x: f64) -> (f64, f64) {
    let ln_half_x = (0.5 * x).ln();
    let sigma = -u * ln_half_x;
    // One exponential serves (x/2)^∓u, cosh σ and sinh σ.
    let e = sigma.exp();
    let cosh = 0.5 * (e + 1.0 / e);
    let pu = PI * u;
    let pi_ratio = if pu.abs() < 1e-5 {
        1.0 + pu * pu / 6.0
    } else {
        pu / pu.sin()
    };
    let (gamma1, gamma2) = temme_gammas(u);
    let mut f = (cosh * gamma1 - sinh_ratio(sigma, e) * ln_half_x * gamma2) * pi_ratio;
    // p0 = ½(x/2)^−u Γ(1+u), q0 = ½(x/2)^u Γ(1−u), with 1/Γ(1±u) = Γ₂ ∓ u Γ₁.
    let mut p = 0.5 * e / (gamma2 - u * gamma1);
    let mut q = 0.5 / (e * (gamma2 + u * gamma1));
    let mut c = 1.0;
    let h = 0.25 * x * x;
    let mut sum = f;
    let mut sum1 = p;
    let mut k = 1.0;
    let u2 = u * u;
    loop {
        // Reciprocals first: they do not depend on the previous step, so the divisions run
        // beside the dependency chain instead of on it.
        let inv_f = 1.0 / (k * k - u2);
        let inv_p = 1.0 / (k - u);
        let inv_q = 1.0 / (k + u);
        f = (k * f + p + q) * inv_f;
        p *= inv_p;
        q *= inv_q;
        c *= h / k;
        let term = c * f;
        sum += term;
        sum1 += c * (p - k * f);
        if term.abs() < f64::EPSILON * 0.0625 * sum.abs() {
            break;
        }
        k += 1.0;
    }
    (sum.ln(), 2.0 * sum1 / sum)
}

/// `(ln K_u(x), x·K_{u+1}(x)/K_u(x))` by Steed's CF2, `|u| ≤ ½`, `x > 2`.
#[inline(always)]
fn steed_cf2(u: f64, x: f64) -> (f64, f64) {
    let mut a = u * u - 0.25;
    let mut b = 2.0 * (x + 1.0);
    let mut d = 1.0 / b;
    let mut f = d;
    let mut delta = d;
    let mut q_prev = 0.0;
    let mut q_cur = 1.0;
    let mut c = -a;
    let mut big_q = c;
    let mut s = 1.0 + big_q * delta;
    let mut k = 2.0;
    loop {
        a -= 2.0 * (k - 1.0);
        b += 2.0;
        d = 1.0 / (b + a * d);
        delta *= b * d - 1.0;
        f += delta;
        // a ≤ −2 here, so the division is safe even at u = ±½ where a started at 0.
        let q = (q_prev - (b - 2.0) * q_cur) * (1.0 / a);
        q_prev = q_cur;
        q_cur = q;
        c *= -a / k;
        big_q += c * q;
        s += big_q * delta;
        if (big_q * delta).abs() < f64::EPSILON * 0.0625 * s.abs() {
            break;
        }
        k += 1.0;
    }
    let ln_ku = 0.5 * (PI / (2.0 * x)).ln() - x - s.ln();
    let rho0 = 0.5 + u + x + (u * u - 0.25) * f;
    (ln_ku, rho0)
}

/// `log K_v(x)` for `x > 0`, `v ≥ 0`, `√(v²+x²)` below the uniform expansion's threshold.
#[inline(always)]
pub(crate) fn log_k(v: f64, x: f64) -> f64 {
    log_k_by(v, x, x > TEMME_MAX_X)
}

/// Largest `x` Temme's series serves; Steed's CF2 takes over above.
pub(crate) const TEMME_MAX_X: f64 = 2.0;

/// Below this `x` the recurrence runs on ratios (a step could overflow the scaled values).
const TINY_X: f64 = 1e-100;
/// 2^664 ≈ 7.7e199: a power of two, so rescaling by it is exact.
const RESCALE: f64 = 7.654_505_172_902_098e199;
/// ln 2^664, correctly rounded.
const RESCALE_LN: f64 = 460.249_727_891_803_7;

/// `log K_v(x)` with the start chosen by the caller (`steed`: CF2, else Temme).
#[inline(always)]
pub(crate) fn log_k_by(v: f64, x: f64, steed: bool) -> f64 {
    let n = v.round();
    let u = v - n;
    let (ln_ku, rho0) = if steed { steed_cf2(u, x) } else { temme(u, x) };
    if n == 0.0 {
        return ln_ku;
    }
    if x < TINY_X {
        // Each step may grow by ~60/x: carry ratios ρ_k = x K_{u+k+1}/K_{u+k} instead,
        // log K_v = ln K_u + Σ ln(ρ_k / x), multiplied up with one log per 1e±150.
        let x2 = x * x;
        let mut rho = rho0;
        let mut logs = LogProduct::new();
        logs.push(rho0 / x);
        let mut k = 1.0;
        while k < n {
            rho = 2.0 * (u + k) + x2 / rho;
            logs.push(rho / x);
            k += 1.0;
        }
        return ln_ku + logs.ln();
    }
    // K_{u+k+1} = 2(u+k)/x · K_{u+k} + K_{u+k−1} run on scaled values a_k ∝ K_{u+k}
    // (a_0 = 1, a_1 = ρ_0/x): multiplies and adds only, no division on the dependency chain.
    // The recurrence is stable for K (its dominant solution). A step grows the values by at
    // most ~60/x ≤ 6e101, so rescaling once they pass 2^664 keeps them finite.
    let inv_x = 1.0 / x;
    let mut prev = 1.0;
    let mut cur = rho0 * inv_x;
    let mut logs = 0.0;
    let mut k = 1.0;
    while k < n {
        let next = 2.0 * (u + k) * inv_x * cur + prev;
        prev = cur;
        cur = next;
        if cur > RESCALE {
            prev *= 1.0 / RESCALE;
            cur *= 1.0 / RESCALE;
            logs += RESCALE_LN;
        }
        k += 1.0;
    }
    ln_ku + logs + cur.ln()
}
