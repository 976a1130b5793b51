//! von Mises–Fisher quantities on the unit sphere `S^{p−1}` in `p` dimensions, with
//! `ν = p/2 − 1`:
//!
//! * [`log_normalizer`]: `log C_p(κ) = ν ln κ − (p/2) ln(2π) − log I_ν(κ)`;
//! * [`mean_resultant_length`]: `A_p(κ) = I_{p/2}(κ) / I_{p/2−1}(κ)` straight from a continued
//!   fraction (Gauss's for `κ ≤ p/2`, Perron's above, after Gautschi & Slavik, Math. Comp. 32
//!   (1978) 865), never as `exp` of a difference of logs: for p = 32768 a log of I is ~1e4,
//!   so even in f64 that difference would leave only ~12 digits;
//! * [`kappa_mle`]: the κ solving `A_p(κ) = R̄`, by Newton steps kept inside the bracket that
//!   the Amos-type bounds give;
//! * [`kappa_banerjee`] and [`kappa_sra`]: the usual closed-form approximations, for comparison.

use super::{gamma::lgamma, log_iv};
use std::f64::consts::PI;

/// `log C_p(κ)`, the log of the vMF density's normalising constant, for `p ≥ 2`, `κ ≥ 0`
/// (`κ = 0`: the uniform density, `−ln |S^{p−1}|`). NaN outside the domain.
pub fn log_normalizer(p: f64, kappa: f64) -> f64 {
    if !(p >= 2.0 && kappa >= 0.0) || kappa.is_infinite() {
        return f64::NAN;
    }
    let half_p = 0.5 * p;
    if kappa == 0.0 {
        return lgamma(half_p) - std::f64::consts::LN_2 - half_p * PI.ln();
    }
    let nu = half_p - 1.0;
    let lead = if nu == 0.0 { 0.0 } else { nu * kappa.ln() };
    lead - half_p * (2.0 * PI).ln() - log_iv(nu, kappa)
}

/// Iteration cap of the continued fractions: far above what any `(ν, x)` with `x ≤ 1e7` needs
/// (Perron's converges in `O(√x)` steps for `x ≫ ν`, Gauss's in `O(x)` for `x ≤ ν`).
const CF_MAX_ITER: usize = 1_000_000;

/// Modified Lentz evaluation of `b1 + a2/(b2 + a3/(b3 + …))`, given `term(k) = (a_k, b_k)`
/// for `k ≥ 2`.
fn lentz_tail(b1: f64, term: impl Fn(f64) -> (f64, f64)) -> f64 {
    const TINY: f64 = 1e-300;
    let mut f = if b1 == 0.0 { TINY } else { b1 };
    let mut c = f;
    let mut d = 0.0;
    let mut k = 2.0;
    for _ in 0..CF_MAX_ITER {
        let (a, b) = term(k);
        d = b + a * d;
        if d == 0.0 {
            d = TINY;
        }
        c = b + a / c;
        if c == 0.0 {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
        k += 1.0;
    }
    f
}

/// `I_ν(x) / I_{ν−1}(x)` for `ν > 0`, `x ≥ 0`.
pub fn bessel_i_ratio(nu: f64, x: f64) -> f64 {
    if !(nu > 0.0 && x >= 0.0) {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return 1.0;
    }
    if x <= nu {
        // Gauss (DLMF 10.33.1), scaled by x: x / (2ν + x²/(2(ν+1) + x²/(2(ν+2) + …))).
        let x2 = x * x;
        x / lentz_tail(2.0 * nu, |k| (x2, 2.0 * (nu + k - 1.0)))
    } else {
        // Perron: x / (x + 2ν − (2ν+1)x/(2(ν+x)+1 − (2ν+3)x/(2(ν+x)+2 − …))).
        x / lentz_tail(x + 2.0 * nu, |k| {
            (-(2.0 * nu + 2.0 * k - 3.0) * x, 2.0 * (nu + x) + k - 1.0)
        })
    }
}

/// `A_p(κ) = I_{p/2}(κ) / I_{p/2−1}(κ)`, the mean resultant length of a vMF in `p ≥ 2`
/// dimensions: `E[μᵀX]`. NaN outside the domain.
pub fn mean_resultant_length(p: f64, kappa: f64) -> f64 {
    if p.is_nan() || p < 2.0 {
        return f64::NAN;
    }
    bessel_i_ratio(0.5 * p, kappa)
}

/// `dA_p/dκ = 1 − A² − (p−1)/κ·A`.
fn a_derivative(p: f64, kappa: f64, a: f64) -> f64 {
    1.0 - a * a - (p - 1.0) / kappa * a
}

/// The `κ` at which `R = κ / (α + √(κ² + β²))`, for `0 < R < 1`.
fn invert_amos(r: f64, alpha: f64, beta: f64) -> f64 {
    let one_m_r2 = (1.0 - r) * (1.0 + r);
    r * (alpha + (r * r * alpha * alpha + one_m_r2 * beta * beta).sqrt()) / one_m_r2
}

/// The maximum-likelihood `κ` of a vMF in `p ≥ 2` dimensions whose sample mean resultant length
/// is `rbar ∈ [0, 1)`: the root of `A_p(κ) = R̄`. Safeguarded Newton from the Amos-type bounds
/// `κ/(ν+½+√(κ²+(ν+3/2)²)) ≤ A_p(κ) ≤ κ/(ν+½+√(κ²+(ν+½)²))` (`ν = p/2 − 1`), which bracket the
/// root; converges to a few ulp. `rbar = 0` gives 0; NaN outside the domain.
pub fn kappa_mle(p: f64, rbar: f64) -> f64 {
    if !(p >= 2.0 && (0.0..1.0).contains(&rbar)) {
        return f64::NAN;
    }
    if rbar == 0.0 {
        return 0.0;
    }
    let nu = 0.5 * p - 1.0;
    // A ≤ upper(κ) means the root is at least where upper(κ) = R̄, and vice versa.
    let mut lo = invert_amos(rbar, nu + 0.5, nu + 0.5);
    let mut hi = invert_amos(rbar, nu + 0.5, nu + 1.5);
    let mut kappa = 0.5 * (lo + hi);
    for _ in 0..100 {
        let a = mean_resultant_length(p, kappa);
        let f = a - rbar;
        if f == 0.0 {
            return kappa;
        }
        if f > 0.0 {
            hi = hi.min(kappa);
        } else {
            lo = lo.max(kappa);
        }
        let step = f / a_derivative(p, kappa, a);
        let mut next = kappa - step;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - kappa).abs() <= 4.0 * f64::EPSILON * kappa || hi - lo <= f64::EPSILON * hi {
            return next;
        }
        kappa = next;
    }
    kappa
}

/// Banerjee et al. (JMLR 2005): `κ ≈ R̄(p − R̄²)/(1 − R̄²)`.
pub fn kappa_banerjee(p: f64, rbar: f64) -> f64 {
    rbar * (p - rbar * rbar) / ((1.0 - rbar) * (1.0 + rbar))
}

/// Sra (Comput. Stat. 2012): two Newton steps on `A_p(κ) = R̄` from Banerjee's value.
pub fn kappa_sra(p: f64, rbar: f64) -> f64 {
    let mut kappa = kappa_banerjee(p, rbar);
    for _ in 0..2 {
        let a = mean_resultant_length(p, kappa);
        kappa -= (a - rbar) / a_derivative(p, kappa, a);
    }
    kappa
}
