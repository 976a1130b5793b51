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
#[inline(always)]
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

/// `(Σ_{k≥1} t^k P_k(q), Σ_{k≥1} (−t)^k P_k(q))`: the I and K correction sums, `k < n`.
#[inline(always)]
fn debye_sums(t: f64, q: f64, n: usize) -> (f64, f64) {
    if n > NARROW_TERMS {
        return debye_sums_wide(t, q);
    }
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

/// Up to this many terms the polynomials are evaluated one after another; above, all of them
/// at once ([`debye_sums_wide`]).
const NARROW_TERMS: usize = 7;

/// Lanes of [`debye_sums_wide`]: `P_1 … P_16`.
const WIDE: usize = DEBYE_TERMS - 1;

/// `COLS[j][k − 1]` = coefficient of `q^j` in `P_k` (zero for `j > k`), so one Horner step
/// over `j` advances every `P_k` at once.
const COLS: [[f64; WIDE]; DEBYE_TERMS] = {
    let mut c = [[0.0; WIDE]; DEBYE_TERMS];
    let mut k = 1;
    while k < DEBYE_TERMS {
        let mut j = 0;
        while j <= k {
            c[j][k - 1] = DEBYE_P[DEBYE_OFFSET[k] + j];
            j += 1;
        }
        k += 1;
    }
    c
};

/// [`debye_sums`] with every tabulated term, the 16 polynomials evaluated side by side: 17
/// Horner steps over 16 independent lanes (vector instructions where the caller is compiled
/// for them) instead of 152 dependent ones. The leading zero coefficients of the lower `P_k`
/// keep them exact. More terms than `terms_for` asks only add terms below 1e-17 (the series
/// still decreases through k = 16 at r = 30).
#[inline(always)]
fn debye_sums_wide(t: f64, q: f64) -> (f64, f64) {
    let mut acc = [0.0; WIDE];
    for col in COLS.iter().rev() {
        for (a, &c) in acc.iter_mut().zip(col) {
            *a = *a * q + c;
        }
    }
    let mut tk = [0.0; WIDE];
    tk[0] = t;
    for l in 1..WIDE {
        tk[l] = tk[l - 1] * t;
    }
    // Lane l holds k = l + 1: odd k in even lanes. Pairwise sums, written out so that the
    // order (and so the rounding) does not depend on the compiler.
    let mut odd = [0.0; WIDE / 2];
    let mut even = [0.0; WIDE / 2];
    for i in 0..WIDE / 2 {
        odd[i] = tk[2 * i] * acc[2 * i];
        even[i] = tk[2 * i + 1] * acc[2 * i + 1];
    }
    let (o, e) = (pairwise(odd), pairwise(even));
    (e + o, e - o)
}

/// Sum of 8 values as a balanced tree, largest terms (lowest k) combined last.
#[inline(always)]
fn pairwise(v: [f64; WIDE / 2]) -> f64 {
    ((v[7] + v[6]) + (v[5] + v[4])) + ((v[3] + v[2]) + (v[1] + v[0]))
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
#[inline(always)]
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

/// A uniform-region point reduced to the three logs it still needs, for the batch kernels,
/// which take those logs for many points at once ([`super::vec_ln`]).
#[derive(Clone, Copy, Default)]
pub(crate) struct Prepared {
    v: f64,
    r: f64,
    /// `(v + r)/x`: `asinh(v/x)` is its log.
    pub asinh_arg: f64,
    /// `(1 + Σ t^k P_k)² / r`: `log I` needs half its log.
    pub i_arg: f64,
    /// `(1 + Σ (−t)^k P_k)² / r`: `log K` needs half its log.
    pub k_arg: f64,
}

impl Prepared {
    /// The point's logs from the logs of its three arguments (an unwanted one may be NaN).
    #[inline(always)]
    pub(crate) fn finish(&self, ln_asinh: f64, ln_i: f64, ln_k: f64) -> (f64, f64) {
        const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
        const HALF_LN_PI_2: f64 = 0.225_791_352_644_727_44;
        let veta = self.r - self.v * ln_asinh;
        (
            veta - HALF_LN_2PI + 0.5 * ln_i,
            -veta + HALF_LN_PI_2 + 0.5 * ln_k,
        )
    }
}

/// [`Prepared`] for a point of the uniform region, or `None` where the scalar path must run:
/// inside η's Taylor window, or where `(v + r)/x` would leave the normal range.
///
/// `asinh(v/x) = ln((v + r)/x)` also for `v ≪ x` here: its absolute error (≤ 2 ulp of 1) is
/// multiplied by `v`, and `|log I|, |log K| ≈ x ≥ v` there, so the mixed error stays ~1e-16.
#[inline(always)]
pub(crate) fn prepare(v: f64, x: f64) -> Option<Prepared> {
    let r = radius(v, x);
    if v != 0.0 && (x / v - ETA_Z0_HI).abs() < ETA_WINDOW {
        return None;
    }
    let asinh_arg = (v + r) / x;
    if !asinh_arg.is_normal() {
        return None;
    }
    let t = 1.0 / r;
    let p = v * t;
    let (si, sk) = debye_sums(t, p * p, terms_for(r));
    let (wi, wk) = (1.0 + si, 1.0 + sk);
    let (i_arg, k_arg) = (wi * wi * t, wk * wk * t);
    if !(i_arg.is_normal() && k_arg.is_normal()) {
        return None;
    }
    Some(Prepared {
        v,
        r,
        asinh_arg,
        i_arg,
        k_arg,
    })
}
