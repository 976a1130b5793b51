//! `ln Γ` for the log-Bessel kernels, and the series of `1/Γ(1+u)` that Temme's method needs.
//!
//! Accuracy (measured against mpmath in `tests/bessel.rs`): absolute error below 4e-16 for
//! arguments in [0.5, 10) and relative error below 3e-16 above, which is what the power series
//! for `log I_v` (where `ln Γ(v+1)` is subtracted from `v ln(x/2)`) needs to hold 1e-14.

use super::coeffs::{RGAMMA1P, STIRLING};

/// `1/Γ(1+u)` for `|u| ≤ 1/2`, from its Taylor series (26 terms: error below 1e-18 there).
#[inline(always)]
pub(crate) fn rgamma1p(u: f64) -> f64 {
    RGAMMA1P.iter().rev().fold(0.0, |acc, &c| acc * u + c)
}

/// `1/Γ(1+u) − 1` for `|u| ≤ 1/2`, without the cancellation of subtracting 1 afterwards.
#[inline(always)]
pub(crate) fn rgamma1pm1(u: f64) -> f64 {
    RGAMMA1P[1..].iter().rev().fold(0.0, |acc, &c| acc * u + c) * u
}

/// Temme's `Γ₁ = (1/Γ(1−u) − 1/Γ(1+u)) / (2u)` and `Γ₂ = (1/Γ(1−u) + 1/Γ(1+u)) / 2`,
/// `|u| ≤ 1/2`, from the odd and even parts of the series (no cancellation as `u → 0`).
#[inline(always)]
pub(crate) fn temme_gammas(u: f64) -> (f64, f64) {
    let u2 = u * u;
    let mut odd = 0.0;
    let mut even = 0.0;
    for pair in RGAMMA1P.chunks(2).rev() {
        even = even * u2 + pair[0];
        if let Some(&c) = pair.get(1) {
            odd = odd * u2 + c;
        }
    }
    (-odd, even)
}

/// `ln Γ(y)` for `y ≥ 1/2`.
#[inline(always)]
pub(crate) fn lgamma(y: f64) -> f64 {
    if y >= 10.0 {
        // Stirling's series: the first omitted term is below 1e-18 relative for y ≥ 10.
        let inv = 1.0 / y;
        let inv2 = inv * inv;
        let series = STIRLING.iter().rev().fold(0.0, |acc, &c| acc * inv2 + c) * inv;
        (y - 0.5) * y.ln() - y + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
    } else {
        // Γ(y) = (y−1)(y−2)…(y−m+1) · Γ(1+u), y = m + u, |u| ≤ 1/2: one log of a product
        // of at most nine exact-ish factors, so the absolute error stays near 1 ulp of 1
        // even at the zeros y = 1 and y = 2.
        let m = y.round();
        let u = y - m;
        let mut prod = 1.0;
        for j in 1..m as i32 {
            prod *= y - f64::from(j);
        }
        if m == 1.0 {
            // m = 1: ln Γ(1+u) = −ln(1/Γ(1+u)), near 0 for small u.
            -rgamma1pm1(u).ln_1p()
        } else {
            (prod / rgamma1p(u)).ln()
        }
    }
}
