//! `log K_v(x)` for `√(v²+x²) < 30`: `K_u` and `K_{u+1}` at `u = v − round(v) ∈ [−½, ½]` from
//! Temme's series (`x ≤ 2`) or Steed's continued fraction CF2 (`x > 2`), then the upward
//! recurrence `K_{u+k+1} = 2(u+k)/x·K_{u+k} + K_{u+k−1}`, which is stable for K.
//!
//! The recurrence runs on `ρ_k = x·K_{u+k+1}/K_{u+k} = 2(u+k) + x²/ρ_{k−1}` so that nothing
//! overflows even at x = 1e-300, and `log K_v = log K_u + Σ_k (ln ρ_k − ln x)`.
//! Sources: Temme, J. Comput. Phys. 19 (1975) 324; Thompson & Barnett, J. Comput. Phys. 64
//! (1986) 490; the same split as Boost.Math's `bessel_ik`.

use super::gamma::{rgamma1p, temme_gammas};
use super::log_product::LogProduct;
use std::f64::consts::PI;

/// `(ln K_u(x), x·K_{u+1}(x)/K_u(x))` by Temme's series, `|u| ≤ ½`, `0 < x ≤ 2`.
fn temme(u: f64, x: f64) -> (f64, f64) {
    let ln_half_x = (0.5 * x).ln();
    let sigma = -u * ln_half_x;
    let sinh_ratio = if sigma.abs() < 1e-5 {
        1.0 + sigma * sigma / 6.0
    } else {
        sigma.sinh() / sigma
    };
    let pu = PI * u;
    let pi_ratio = if pu.abs() < 1e-5 {
        1.0 + pu * pu / 6.0
    } else {
        pu / pu.sin()
    };
    let (gamma1, gamma2) = temme_gammas(u);
    let mut f = (sigma.cosh() * gamma1 - sinh_ratio * ln_half_x * gamma2) * pi_ratio;
    // p0 = ½(x/2)^−u Γ(1+u), q0 = ½(x/2)^u Γ(1−u).
    let e = sigma.exp();
    let mut p = 0.5 * e / rgamma1p(u);
    let mut q = 0.5 / (e * rgamma1p(-u));
    let mut c = 1.0;
    let h = 0.25 * x * x;
    let mut sum = f;
    let mut sum1 = p;
    let mut k = 1.0;
    loop {
        f = (k * f + p + q) / (k * k - u * u);
        p /= k - u;
        q /= k + u;
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
        let q = (q_prev - (b - 2.0) * q_cur) / a;
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
pub(crate) fn log_k(v: f64, x: f64) -> f64 {
    log_k_by(v, x, x > TEMME_MAX_X)
}

/// Largest `x` Temme's series serves; Steed's CF2 takes over above.
pub(crate) const TEMME_MAX_X: f64 = 2.0;

/// `log K_v(x)` with the start chosen by the caller (`steed`: CF2, else Temme).
pub(crate) fn log_k_by(v: f64, x: f64, steed: bool) -> f64 {
    let n = v.round();
    let u = v - n;
    let (ln_ku, rho0) = if steed { steed_cf2(u, x) } else { temme(u, x) };
    if n == 0.0 {
        return ln_ku;
    }
    // log K_v = ln K_u + Σ_{k<n} ln(ρ_k / x): the ratios multiplied, one log at the end.
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
    ln_ku + logs.ln()
}
