//! The uniform asymptotic (Debye) expansion, DLMF 10.41.3/10.41.4, for `r = √(v²+x²) ≥ 30`.
//!
//! With `t = 1/r` and `q = v²/r²`, `U_k(p)/v^k = t^k P_k(q)` (the tabulated form), so
//!
//! * `log I_v(x) =  vη − ½ ln(2πr)  + ln(1 + Σ_{k≥1}  t^k P_k(q))`
//! * `log K_v(x) = −vη + ½ ln(π/2r) + ln(1 + Σ_{k≥1} (−t)^k P_k(q))`
//!
//! with `vη = r − v·asinh(v/x)`. Nothing divides by `v`, so `v = 0` (and any `v ≪ x`) is the
//! Hankel expansion in `1/x` with no special case, and nothing overflows for any finite input.
//!
//! Terms: the first omitted term `max_q |P_N(q)| / r^N` is kept below 1e-17 by choosing `N`
//! from `r` ([`terms_for`]); measured on the reference file this region's mixed error is at
//! most a few 1e-16 (see the accuracy table in `mod.rs`).

use super::coeffs::{DEBYE_OFFSET, DEBYE_P, DEBYE_TERMS, ETA_TAYLOR, ETA_Z0_HI, ETA_Z0_LO};

/// Smallest `r` this expansion serves, with all [`DEBYE_TERMS`] terms.
pub(crate) const R_MIN: f64 = 30.0;

/// Number of terms `N` (`k < N`) such that the first omitted term is below 1e-17 at this `r`.
/// The thresholds solve `max_q |P_N(q)| / r^N = 1e-17` for the tabulated maxima.
fn terms_for(r: f64) -> usize {
    TERM_TIERS
        .iter()
        .find(|&&(r_min, _)| r >= r_min)
        .map_or(DEBYE_TERMS, |&(_, n)| n)
}

/// `(r_min, N)`: from `r_min` up, `N` terms suffice (first match wins; below all: every term).
pub(crate) const TERM_TIERS: [(f64, usize); 6] = [
    (2.0e5, 3),
    (1.1e4, 4),
    (2.0e3, 5),
    (300.0, 7),
    (120.0, 9),
    (55.0, 12),
];

/// `(Σ_{k≥1} t^k P_k(q), Σ_{k≥1} (−t)^k P_k(q))`: the I and K correction sums.
fn debye_sums(t: f64, q: f64, n: usize) -> (f64, f64) {
    // Even and odd k apart, so one pass serves both signs.
    let mut even = 0.0;
    let mut odd = 0.0;
    let mut tk = 1.0;
    for k in 1..n {
        tk *= t;
        let start = DEBYE_OFFSET[k];
        let pk = DEBYE_P[start..=start + k]
            .iter()
            .rev()
            .fold(0.0, |acc, &c| acc * q + c);
        if k % 2 == 0 {
            even += tk * pk;
        } else {
            odd += tk * pk;
        }
    }
    (even + odd, even - odd)
}

/// Half-width of the window around the zero `z0` of η in which `vη` comes from η's Taylor series.
pub(crate) const ETA_WINDOW: f64 = 0.08;

/// `asinh(v/x)` for `x > 0`, without overflow when `x` is tiny and without cancellation when
/// `v ≪ x`.
fn asinh_ratio(v: f64, x: f64, r: f64) -> f64 {
    if v <= x {
        // asinh(t) = ln1p(t + t²/(1 + √(1+t²))), t = v/x, √(1+t²) = r/x.
        (v / x * (1.0 + v / (x + r))).ln_1p()
    } else if x > 1e-290 {
        ((v + r) / x).ln()
    } else {
        (v + r).ln() - x.ln()
    }
}

/// `vη(v/x)` = `r − v·asinh(v/x)` for `x > 0`. Both terms are near `v` where η crosses zero
/// (z = x/v ≈ 0.6627), so there the product `v·η` is taken from η's Taylor series at its zero,
/// with `z − z0` formed in double-double: the result keeps its relative accuracy instead of an
/// absolute error of a few ulp of `v` (which for v = 1e5 would be 1e-11 in a log near 0).
fn v_eta(v: f64, x: f64, r: f64) -> f64 {
    if v == 0.0 {
        return r;
    }
    let z = x / v;
    if (z - ETA_Z0_HI).abs() < ETA_WINDOW {
        // x = z·v + rem exactly, so x/v = z + rem/v to double-double accuracy; z − Z0_HI is
        // exact (Sterbenz).
        let rem = (-z).mul_add(v, x);
        let dz = (z - ETA_Z0_HI) + (rem / v - ETA_Z0_LO);
        let eta = ETA_TAYLOR[1..]
            .iter()
            .rev()
            .fold(0.0, |acc, &c| acc * dz + c)
            * dz;
        v * eta
    } else {
        r - v * asinh_ratio(v, x, r)
    }
}

/// `√(v² + x²)` without overflow.
fn radius(v: f64, x: f64) -> f64 {
    if v.max(x) < 1e150 {
        (v * v + x * x).sqrt()
    } else {
        v.hypot(x)
    }
}

/// Whether `(v, x)` lies in this expansion's region.
pub(crate) fn serves(v: f64, x: f64) -> bool {
    radius(v, x) >= R_MIN
}

/// Which of the two logs a caller wants (the other is not computed).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    I,
    K,
    Both,
}

/// `(log I_v(x), log K_v(x))` for `x > 0` and `√(v²+x²) ≥ R_MIN`; an unwanted one is NaN.
pub(crate) fn log_ik(v: f64, x: f64, want: Want) -> (f64, f64) {
    let r = radius(v, x);
    log_ik_terms(v, x, r, terms_for(r), want)
}

/// [`log_ik`] with `n` terms (`k < n`), for any `x > 0`.
pub(crate) fn log_ik_terms(v: f64, x: f64, r: f64, n: usize, want: Want) -> (f64, f64) {
    let t = 1.0 / r;
    let p = v * t;
    let (si, sk) = debye_sums(t, p * p, n);
    let veta = v_eta(v, x, r);
    // ½ ln(2π) and ½ ln(π/2), correctly rounded.
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
    const HALF_LN_PI_2: f64 = 0.225_791_352_644_727_44;
    // −½ ln r + ln(1 + s) as one log, ½ ln((1+s)²/r): the absolute error of a log is what the
    // mixed error measures, and one log of a product carries less of it than two.
    let log_i = if want == Want::K {
        f64::NAN
    } else {
        let w = 1.0 + si;
        veta - HALF_LN_2PI + 0.5 * (w * w * t).ln()
    };
    let log_k = if want == Want::I {
        f64::NAN
    } else {
        let w = 1.0 + sk;
        -veta + HALF_LN_PI_2 + 0.5 * (w * w * t).ln()
    };
    (log_i, log_k)
}
