//! `log I_v(x)` from its power series (DLMF 10.25.2) for `√(v²+x²) < 30`:
//! `log I_v(x) = v ln(x/2) − ln Γ(v+1) + ln(1 + Σ_{m≥1} τ_m)`, `τ_m = τ_{m−1}·(x²/4)/(m(m+v))`.
//!
//! All terms are positive, so the sum loses nothing to cancellation; it stops once a term is
//! below 2⁻⁵⁶ of the sum, which the decreasing term ratio makes final (at most ~60 terms
//! here). The tail is summed apart from the leading 1 so that `log I_0(x) ≈ x²/4` keeps its
//! relative accuracy at tiny `x`.

use super::gamma::lgamma;
use super::log_product::LogProduct;

/// `log I_v(x)` for `x > 0`, `v ≥ 0`, `√(v²+x²)` below the uniform expansion's threshold.
#[inline(always)]
pub(crate) fn log_i(v: f64, x: f64) -> f64 {
    let h = 0.25 * x * x;
    let mut term = 1.0;
    let mut tail = 0.0;
    let mut m = 1.0;
    loop {
        term *= h / (m * (m + v));
        tail += term;
        if term <= f64::EPSILON * 0.0625 * (1.0 + tail) {
            break;
        }
        m += 1.0;
    }
    log_lead(v, x) + tail.ln_1p()
}

/// `ln((x/2)^v / Γ(v+1))`. With `v = u + n`, `0 ≤ u < 1`, `Γ(v+1) = Γ(1+u) Π_{j≤n}(u+j)`, so
/// this is `u ln(x/2) − ln Γ(1+u) + ln Π_{j≤n} x/(2(u+j))`: the two large terms `v ln(x/2)`
/// and `ln Γ(v+1)` (each ~50 at v = 25) never meet, where their difference can be near 0.
#[inline(always)]
fn log_lead(v: f64, x: f64) -> f64 {
    let n = v.floor();
    let u = v - n;
    let half_x = 0.5 * x;
    let mut prod = LogProduct::new();
    let mut j = 1.0;
    while j <= n {
        prod.push(half_x / (u + j));
        j += 1.0;
    }
    let frac = if u == 0.0 {
        0.0
    } else {
        u * half_x.ln() - lgamma(1.0 + u)
    };
    frac + prod.ln()
}
