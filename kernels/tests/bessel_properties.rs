//! Properties of the f64 log-Bessel kernels that hold off the reference grid: methods agree
//! where their regions meet, every switch is continuous, the Wronskian, closed forms at
//! half-integer order, tiny-x limits, and the limits at x = 0.

use lowbit_kernels::bessel::{lgamma, log_ikv, log_ikv_with, switches, Method};
use std::f64::consts::PI;

fn mixed(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

fn assert_close(got: (f64, f64), want: (f64, f64), tol: f64, what: &str) {
    let (ei, ek) = (mixed(got.0, want.0), mixed(got.1, want.1));
    assert!(
        ei <= tol && ek <= tol,
        "{what}: I {:e} vs {:e} ({ei:.1e}), K {:e} vs {:e} ({ek:.1e})",
        got.0,
        want.0,
        got.1,
        want.1
    );
}

#[test]
fn methods_agree_where_regions_meet() {
    let sw = switches();
    // The circle r = 30 where the series / Temme / CF2 hand over to the uniform expansion.
    for i in 0..=64 {
        let theta = f64::from(i) / 64.0 * PI / 2.0;
        let (v, x) = (
            sw.uniform_min_r * theta.sin(),
            sw.uniform_min_r * theta.cos(),
        );
        if x <= 0.0 {
            continue;
        }
        let small = if x <= sw.temme_max_x {
            Method::SeriesTemme
        } else {
            Method::SeriesSteed
        };
        let a = log_ikv_with(small, v, x);
        let b = log_ikv_with(Method::Uniform, v, x);
        assert_close(a, b, 5e-15, &format!("r=30 v={v} x={x}"));
    }
    // x = 2, where K's start moves from Temme's series to Steed's CF2: every order below 30.
    for i in 0..=290 {
        let v = f64::from(i) * 0.1;
        let x = sw.temme_max_x;
        let a = log_ikv_with(Method::SeriesTemme, v, x);
        let b = log_ikv_with(Method::SeriesSteed, v, x);
        assert_close(a, b, 5e-15, &format!("x=2 v={v}"));
    }
}

/// `|f(next float) − f(x)| ≤ 1e-14 max(|f|, 1)` on both sides of a switch at `x = edge`.
fn continuous_at(v: f64, edge: f64, what: &str) {
    let mut x = edge;
    for _ in 0..4 {
        x = x.next_down();
    }
    for _ in 0..8 {
        let next = x.next_up();
        assert_close(
            log_ikv(v, next),
            log_ikv(v, x),
            1e-14,
            &format!("{what} x={x:e}"),
        );
        x = next;
    }
}

#[test]
fn every_switch_is_continuous() {
    let sw = switches();
    for r in std::iter::once(sw.uniform_min_r).chain(sw.uniform_term_r.iter().copied()) {
        for frac in [0.0, 0.3, 0.9] {
            let v = r * frac;
            let edge = (r * r - v * v).sqrt();
            continuous_at(v, edge, &format!("r={r} v={v}"));
        }
    }
    for v in [0.0, 0.5, 7.3, 29.0] {
        continuous_at(v, sw.temme_max_x, &format!("temme/steed v={v}"));
    }
    for v in [80.0, 1e3, 1e5] {
        continuous_at(v, v * sw.eta_taylor_z.0, &format!("eta window low v={v}"));
        continuous_at(v, v * sw.eta_taylor_z.1, &format!("eta window high v={v}"));
    }
}

/// Log-uniform in [lo, hi] from a SplitMix64 stream.
fn log_uniform(state: &mut u64, lo: f64, hi: f64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
    (lo.ln() + u * (hi / lo).ln()).exp()
}

#[test]
fn wronskian_holds_in_log_form() {
    // I_v K_{v+1} + I_{v+1} K_v = 1/x, i.e. a + ln(1 + e^{b−a}) = −ln x with a = log I_v +
    // log K_{v+1}, b = log I_{v+1} + log K_v. Each log carries ~1e-16 relative error, so the
    // sum of two large opposite logs carries that much times their size.
    let mut s = 7u64;
    for _ in 0..4000 {
        let v = log_uniform(&mut s, 1e-3, 1e5);
        let x = log_uniform(&mut s, 1e-8, 1e5);
        let (i0, k0) = log_ikv(v, x);
        let (i1, k1) = log_ikv(v + 1.0, x);
        let a = i0 + k1;
        let b = i1 + k0;
        let lhs = a.max(b) + (-(a - b).abs()).exp().ln_1p();
        let scale = i0.abs() + k1.abs() + i1.abs() + k0.abs() + 1.0;
        assert!(
            (lhs + x.ln()).abs() <= 4e-16 * scale,
            "v={v} x={x}: {lhs} vs {} (scale {scale:e})",
            -x.ln()
        );
    }
}

#[test]
fn half_integer_orders_match_closed_forms() {
    // K_{1/2}(x) = √(π/2x) e^{−x}, K_{3/2} = K_{1/2}(1 + 1/x), K_{5/2} = K_{1/2}(1 + 3/x + 3/x²);
    // I_{1/2}(x) = √(2/(πx)) sinh x.
    let mut s = 11u64;
    for _ in 0..2000 {
        let x = log_uniform(&mut s, 1e-8, 1e5);
        let lk_half = 0.5 * (PI / (2.0 * x)).ln() - x;
        let ln_sinh = if x > 20.0 {
            x - std::f64::consts::LN_2 + (-(-2.0 * x).exp()).ln_1p()
        } else {
            x.sinh().ln()
        };
        let li_half = 0.5 * (2.0 / (PI * x)).ln() + ln_sinh;
        let (li, lk) = log_ikv(0.5, x);
        assert!(mixed(lk, lk_half) <= 2e-15, "K_1/2({x}): {lk} vs {lk_half}");
        assert!(mixed(li, li_half) <= 2e-15, "I_1/2({x}): {li} vs {li_half}");
        let lk32 = lk_half + (1.0 / x).ln_1p();
        assert!(mixed(log_ikv(1.5, x).1, lk32) <= 2e-15, "K_3/2({x})");
        let lk52 = lk_half + (3.0 / x + 3.0 / (x * x)).ln_1p();
        assert!(mixed(log_ikv(2.5, x).1, lk52) <= 2e-15, "K_5/2({x})");
    }
}

#[test]
fn tiny_and_huge_arguments_stay_finite_and_follow_the_limits() {
    // x → 0: log I_v ≈ v ln(x/2) − ln Γ(v+1), log K_v ≈ ln Γ(v) + (v) ln(2/x) − ln 2 (v > 0),
    // relative corrections O(x²) and O(x^{2 min(v,1)}).
    for v in [2.0, 5.5, 29.0, 31.0, 1e3, 1e5] {
        for x in [1e-300, 1e-200, 1e-30] {
            let (li, lk) = log_ikv(v, x);
            let want_i = v * (0.5 * x).ln() - lgamma(v + 1.0);
            let want_k = lgamma(v) + v * (2.0 / x).ln() - std::f64::consts::LN_2;
            assert!(
                mixed(li, want_i) <= 1e-14,
                "I v={v} x={x}: {li} vs {want_i}"
            );
            assert!(
                mixed(lk, want_k) <= 1e-14,
                "K v={v} x={x}: {lk} vs {want_k}"
            );
        }
    }
    // log I_0(x) = x²/4 − x⁴/64 + … keeps its relative accuracy at tiny x.
    for x in [1e-12, 1e-8, 1e-5] {
        let li = log_ikv(0.0, x).0;
        let want = x * x / 4.0 - x.powi(4) / 64.0;
        assert!((li - want).abs() <= 1e-15 * want, "log I_0({x}) = {li:e}");
    }
    // Huge arguments: finite, and log I ≈ x − ½ ln(2πx) as x ≫ v².
    for x in [1e10, 1e100, 1e300] {
        let (li, lk) = log_ikv(3.0, x);
        assert!(li.is_finite() && lk.is_finite());
        assert!(mixed(li, x - 0.5 * (2.0 * PI * x).ln()) <= 1e-15);
        assert!(mixed(lk, -x + 0.5 * (PI / (2.0 * x)).ln()) <= 1e-15);
    }
    for v in [1e10, 1e200] {
        let (li, lk) = log_ikv(v, 1.0);
        assert!(li.is_finite() && lk.is_finite(), "v={v}");
    }
}

#[test]
fn limits_at_zero_and_invalid_arguments() {
    assert_eq!(log_ikv(0.0, 0.0), (0.0, f64::INFINITY));
    assert_eq!(log_ikv(2.5, 0.0), (f64::NEG_INFINITY, f64::INFINITY));
    assert_eq!(
        log_ikv(3.0, f64::INFINITY),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    assert_eq!(
        log_ikv(f64::INFINITY, 2.0),
        (f64::NEG_INFINITY, f64::INFINITY)
    );
    for (v, x) in [(-1.0, 1.0), (1.0, -1.0), (f64::NAN, 1.0), (1.0, f64::NAN)] {
        let (li, lk) = log_ikv(v, x);
        assert!(li.is_nan() && lk.is_nan(), "v={v} x={x}");
    }
}

#[test]
fn lgamma_matches_known_values() {
    let cases = [
        (0.5, 0.5 * PI.ln()),
        (1.0, 0.0),
        (2.0, 0.0),
        (1.5, (0.5 * PI.sqrt()).ln()),
        (3.0, 2f64.ln()),
        (10.0, 362880f64.ln()),
        (9.75, 12.242204940050762), // mpmath loggamma(9.75)
        (30.5, 72.9534711841694),   // mpmath loggamma(30.5)
        (1e5, 1051287.7089736569),  // mpmath loggamma(1e5)
    ];
    for (y, want) in cases {
        let got = lgamma(y);
        assert!(
            (got - want).abs() <= 4e-16 * want.abs().max(1.0),
            "lgamma({y}) = {got:e}, want {want:e}"
        );
    }
}
