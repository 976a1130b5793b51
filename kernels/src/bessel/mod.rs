//! `log I_v(x)` and `log K_v(x)` in f64, computed in the log domain so that nothing overflows or
//! underflows for any `v ≥ 0`, `x ≥ 0` (SciPy's `ive`/`kve` fail on ~30% of the reference file).
//!
//! Regions (`r = √(v²+x²)`):
//!
//! | region | where | method | mixed error on the reference file |
//! |---|---|---|---|
//! | [`Region::Uniform`] | `r ≥ 30` | Debye expansion, 3–17 terms by `r`; `x ≫ v` is its Hankel limit | I 7.1e-16, K 6.1e-16 (1869 rows) |
//! | [`Region::Small`] | `r < 30` | I: power series; K: Temme (`x ≤ 2`) or Steed's CF2, then upward recurrence | I 4.4e-16, K 1.2e-15 (1131 rows) |
//!
//! The error measure is `|got − ref| / max(|ref|, 1)` against the Arb-certified values of
//! `tests/data/logbessel_reference.csv` (max per region, single-point functions; the batch
//! functions measure 1.7e-15 overall; `kernels/tests/bessel_reference.rs` prints them).
//! Limits: `x = 0` gives `log I_0 = 0`, `log I_v = −∞` for `v > 0` and `log K_v = +∞`;
//! `x = +∞` gives `(+∞, −∞)`, `v = +∞` with finite `x` gives `(−∞, +∞)`; a negative or NaN
//! argument gives NaN.

mod batch;
pub mod coeffs;
mod gamma;
mod log_product;
mod points;
mod series;
mod small_k;
mod uniform;
mod vec_ln;
pub mod vmf;

pub use batch::{log_ikv_slice, log_ikv_slice_at, log_iv_slice, log_kv_slice};
pub use points::mixture;
pub(crate) use uniform::Want;

/// Which method evaluates a point; exposed for tests, benches and per-region reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// `x = 0`, an infinite, negative or NaN argument: answered without computing.
    Limit,
    /// `√(v²+x²) < 30`: the power series (I) and Temme / Steed's CF2 with recurrence (K).
    Small,
    /// `√(v²+x²) ≥ 30`: the uniform (Debye) expansion.
    Uniform,
}

impl Region {
    /// The region that evaluates `(v, x)`.
    pub fn of(v: f64, x: f64) -> Region {
        if !(v >= 0.0 && x > 0.0 && v.is_finite() && x.is_finite()) {
            Region::Limit
        } else if uniform::serves(v, x) {
            Region::Uniform
        } else {
            Region::Small
        }
    }

    /// Short lower-case name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Region::Limit => "limit",
            Region::Small => "small",
            Region::Uniform => "uniform",
        }
    }
}

/// `(log I_v(x), log K_v(x))` at the limits: `x = 0`, or an invalid argument.
fn limits(v: f64, x: f64) -> (f64, f64) {
    if v.is_nan() || x.is_nan() || v < 0.0 || x < 0.0 {
        (f64::NAN, f64::NAN)
    } else if x.is_infinite() {
        (f64::INFINITY, f64::NEG_INFINITY)
    } else if v.is_infinite() {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else if v == 0.0 {
        (0.0, f64::INFINITY)
    } else {
        (f64::NEG_INFINITY, f64::INFINITY)
    }
}

/// `(log I_v(x), log K_v(x))`, both at once (they share the region's set-up).
pub fn log_ikv(v: f64, x: f64) -> (f64, f64) {
    match Region::of(v, x) {
        Region::Limit => limits(v, x),
        Region::Uniform => uniform::log_ik(v, x, Want::Both),
        Region::Small => (series::log_i(v, x), small_k::log_k(v, x)),
    }
}

/// `log I_v(x)`, the log of the modified Bessel function of the first kind, for `v ≥ 0`, `x ≥ 0`.
pub fn log_iv(v: f64, x: f64) -> f64 {
    match Region::of(v, x) {
        Region::Limit => limits(v, x).0,
        Region::Uniform => uniform::log_ik(v, x, Want::I).0,
        Region::Small => series::log_i(v, x),
    }
}

/// `log K_v(x)`, the log of the modified Bessel function of the second kind, for `v ≥ 0`, `x ≥ 0`.
pub fn log_kv(v: f64, x: f64) -> f64 {
    match Region::of(v, x) {
        Region::Limit => limits(v, x).1,
        Region::Uniform => uniform::log_ik(v, x, Want::K).1,
        Region::Small => small_k::log_k(v, x),
    }
}

/// The largest `√(v²+x²)` at which [`log_ikv_with`] runs the series methods.
pub const SERIES_MAX_R: f64 = 1e4;

/// One of the methods behind [`log_ikv`], for validation: [`log_ikv_with`] runs it outside
/// its region too, so tests can check that two methods agree where the regions meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// I: the power series; K: Temme's series (meant for `x ≤ 2`), then the recurrence.
    SeriesTemme,
    /// I: the power series; K: Steed's CF2 (meant for `x > 2`), then the recurrence.
    SeriesSteed,
    /// The uniform (Debye) expansion with all tabulated terms (meant for `√(v²+x²) ≥ 30`).
    Uniform,
}

/// `(log I_v(x), log K_v(x))` by a chosen method, for `v ≥ 0`, `x > 0`. Accuracy is only
/// claimed inside the method's region; the series methods need `√(v²+x²) ≲ 40` (their sums
/// grow like `e^x`), and past [`SERIES_MAX_R`] (where their loops, v steps long, would take
/// minutes or never end) they give NaN.
pub fn log_ikv_with(method: Method, v: f64, x: f64) -> (f64, f64) {
    if Region::of(v, x) == Region::Limit {
        return limits(v, x);
    }
    let series = matches!(method, Method::SeriesTemme | Method::SeriesSteed);
    if series && (v.hypot(x) > SERIES_MAX_R || v.hypot(x).is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    match method {
        Method::SeriesTemme => (series::log_i(v, x), small_k::log_k_by(v, x, false)),
        Method::SeriesSteed => (series::log_i(v, x), small_k::log_k_by(v, x, true)),
        Method::Uniform => {
            let r = (v * v + x * x).sqrt();
            uniform::log_ik_terms(v, x, r, coeffs::DEBYE_TERMS, Want::Both)
        }
    }
}

/// Where the f64 kernels switch method or number of terms, for continuity tests.
#[derive(Clone, Debug)]
pub struct Switches {
    /// `√(v²+x²)` from which the uniform expansion serves.
    pub uniform_min_r: f64,
    /// Values of `√(v²+x²)` at which the uniform expansion drops terms.
    pub uniform_term_r: Vec<f64>,
    /// `x` above which K's start moves from Temme's series to Steed's CF2.
    pub temme_max_x: f64,
    /// `x/v` interval in which `vη` comes from η's Taylor series at its zero.
    pub eta_taylor_z: (f64, f64),
}

/// The f64 uniform expansion's `(r_min, terms)` tiers (first match wins; below all of them
/// every tabulated term), for the GPU f64 kernel to use the same.
pub const UNIFORM_TERM_TIERS: [(f64, usize); 6] = uniform::TERM_TIERS;

/// Smallest `√(v²+x²)` the f64 uniform expansion serves.
pub const UNIFORM_MIN_R: f64 = uniform::R_MIN;

/// The switch points of the f64 kernels.
pub fn switches() -> Switches {
    let z0 = coeffs::ETA_Z0_HI;
    Switches {
        uniform_min_r: uniform::R_MIN,
        uniform_term_r: uniform::TERM_TIERS.iter().map(|t| t.0).collect(),
        temme_max_x: small_k::TEMME_MAX_X,
        eta_taylor_z: (z0 - uniform::ETA_WINDOW, z0 + uniform::ETA_WINDOW),
    }
}

/// `ln Γ(y)` for `y ≥ ½`, as used by the kernels (exposed for the vMF normaliser and tests).
pub fn lgamma(y: f64) -> f64 {
    gamma::lgamma(y)
}
