//! Composes `shaders/bessel.wgsl` for f32 or f64: the precision's constants and, generated
//! from the same tables as the CPU kernels (`lowbit_kernels::bessel::coeffs`), the polynomial
//! functions unrolled into straight-line Horner code (no dynamically indexed constant arrays).

use std::collections::BTreeSet;
use std::fmt::Write;

use lowbit_kernels::bessel::coeffs::{
    DEBYE_OFFSET, DEBYE_P, ETA_TAYLOR, ETA_Z0_HI, ETA_Z0_LO, RGAMMA1P,
};
use lowbit_kernels::bessel::{UNIFORM_MIN_R, UNIFORM_TERM_TIERS};

use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;

/// The WGSL kernel.
const BESSEL: &str = include_str!("../../shaders/bessel.wgsl");
/// The von Mises–Fisher entry point, composed after [`BESSEL`].
const VMF: &str = include_str!("../../shaders/vmf.wgsl");

/// Precision-dependent constants and series lengths.
struct Precision {
    f64: bool,
    /// Smallest `r` served by the uniform expansion.
    r_min: f64,
    /// `(r_min, terms)`, first match wins; below all, `max_terms`.
    tiers: &'static [(f64, usize)],
    max_terms: usize,
    /// Number of `2/(2k+1)` terms after the leading `2s` in `atanh_series`.
    atanh_terms: usize,
    exp_degree: usize,
    sin_pairs: usize,
    eta_window: f64,
    /// Bits of each of the two leading pieces of `z0` (the split's product must be exact).
    z0_bits: i32,
    split_factor: f64,
    loop_eps: f64,
    range: f64,
    hypot_scale: f64,
    ratio_max: f64,
    ln2_hi: f64,
    ln2_lo: f64,
    /// Convergence test of the vMF continued fractions and Newton iteration.
    cf_eps: f64,
}

const F32: Precision = Precision {
    f64: false,
    r_min: 15.0,
    // The first omitted term max|P_N|/r^N stays below ~2e-8 (f32's ulp is 6e-8).
    tiers: &[(2000.0, 2), (200.0, 3), (50.0, 4)],
    max_terms: 7,
    atanh_terms: 6,
    exp_degree: 8,
    sin_pairs: 7,
    // Wider than f64's: f32's vη outside the window errs by a few ulp of v over |vη|.
    eta_window: 0.2,
    z0_bits: 12,
    split_factor: 4097.0,
    loop_eps: 3.0e-8,
    range: 1e15,
    hypot_scale: 1e18,
    ratio_max: 1e30,
    ln2_hi: 0.693_145_751_953_125,
    ln2_lo: 1.428_606_820_309_417_3e-6,
    cf_eps: 1.2e-7,
};

const F64: Precision = Precision {
    f64: true,
    // The CPU kernels' region and tiers (first omitted term below 1e-17).
    r_min: UNIFORM_MIN_R,
    tiers: &UNIFORM_TERM_TIERS,
    max_terms: 17,
    atanh_terms: 13,
    exp_degree: 13,
    sin_pairs: 13,
    eta_window: 0.08,
    z0_bits: 26,
    split_factor: 134_217_729.0,
    loop_eps: 1.4e-17,
    range: 1e150,
    hypot_scale: 1e150,
    ratio_max: 1e300,
    ln2_hi: 0.693_147_180_369_123_8,
    ln2_lo: 1.908_214_929_270_587_7e-10,
    cf_eps: 2.3e-16,
};

/// A float literal that round-trips (WGSL abstract floats are f64).
fn lit(x: f64) -> String {
    let s = format!("{x:e}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// `c[0] + y*(c[1] + y*(…))` as WGSL text.
fn horner(coeffs: &[f64], y: &str) -> String {
    let mut s = lit(*coeffs.last().expect("coefficients"));
    for &c in coeffs.iter().rev().skip(1) {
        s = format!("{} + {y} * ({s})", lit(c));
    }
    s
}

/// `x` rounded to `bits` significant bits.
fn round_bits(x: f64, bits: i32) -> f64 {
    let e = x.abs().log2().floor() as i32;
    let scale = 2f64.powi(bits - 1 - e);
    (x * scale).round() / scale
}

fn generated(p: &Precision) -> String {
    let mut s = String::new();
    let ty = if p.f64 { "f64" } else { "f32" };
    let point = if p.f64 { "vec2<f64>" } else { "vec4<f32>" };
    writeln!(s, "alias F = {ty};\nalias POINT = {point};").unwrap();
    let consts = [
        ("R_MIN", p.r_min),
        ("ETA_WINDOW", p.eta_window),
        ("SPLIT_FACTOR", p.split_factor),
        ("LOOP_EPS", p.loop_eps),
        ("RANGE_LO", 1.0 / p.range),
        ("RANGE_HI", p.range),
        ("HYPOT_SCALE", p.hypot_scale),
        ("RATIO_MAX", p.ratio_max),
        ("LN2_HI", p.ln2_hi),
        ("LN2_LO", p.ln2_lo),
        ("CF_EPS", p.cf_eps),
    ];
    for (name, value) in consts {
        writeln!(s, "const {name}: F = {};", lit(value)).unwrap();
    }
    // z0 = Z0_A + Z0_B + Z0_C, the first two with z0_bits significant bits.
    let z0_a = round_bits(ETA_Z0_HI, p.z0_bits);
    let rest = (ETA_Z0_HI - z0_a) + ETA_Z0_LO;
    let z0_b = round_bits(rest, p.z0_bits);
    let z0_c = (ETA_Z0_HI - z0_a - z0_b) + ETA_Z0_LO;
    for (name, value) in [("Z0_A", z0_a), ("Z0_B", z0_b), ("Z0_C", z0_c)] {
        writeln!(s, "const {name}: F = {};", lit(value)).unwrap();
    }

    // debye_terms(r) and debye_sums(t, q, n).
    writeln!(s, "fn debye_terms(r: F) -> u32 {{").unwrap();
    for &(r_min, n) in p.tiers {
        writeln!(s, "    if r >= {} {{ return {n}u; }}", lit(r_min)).unwrap();
    }
    writeln!(s, "    return {}u;\n}}", p.max_terms).unwrap();
    writeln!(
        s,
        "fn debye_sums(t: F, q: F, n: u32) -> vec2<F> {{\n    var even: F = 0.0;\n    var odd: F = 0.0;\n    var tk: F = 1.0;"
    )
    .unwrap();
    for k in 1..p.max_terms {
        let c = &DEBYE_P[DEBYE_OFFSET[k]..=DEBYE_OFFSET[k] + k];
        let acc = if k % 2 == 0 { "even" } else { "odd" };
        writeln!(
            s,
            "    tk *= t;\n    if n > {k}u {{ {acc} += tk * ({}); }}",
            horner(c, "q")
        )
        .unwrap();
    }
    writeln!(s, "    return vec2<F>(even + odd, even - odd);\n}}").unwrap();

    // 1/Γ(1+u) and Temme's Γ₁, Γ₂.
    writeln!(
        s,
        "fn rgamma1p(u: F) -> F {{ return {}; }}",
        horner(&RGAMMA1P, "u")
    )
    .unwrap();
    writeln!(
        s,
        "fn rgamma1pm1(u: F) -> F {{ return u * ({}); }}",
        horner(&RGAMMA1P[1..], "u")
    )
    .unwrap();
    let even: Vec<f64> = RGAMMA1P.iter().step_by(2).copied().collect();
    let odd: Vec<f64> = RGAMMA1P.iter().skip(1).step_by(2).map(|c| -c).collect();
    writeln!(
        s,
        "fn temme_gammas(u: F) -> vec2<F> {{\n    let u2 = u * u;\n    return vec2<F>({}, {});\n}}",
        horner(&odd, "u2"),
        horner(&even, "u2")
    )
    .unwrap();
    writeln!(
        s,
        "fn eta_taylor(dz: F) -> F {{ return dz * ({}); }}",
        horner(&ETA_TAYLOR[1..], "dz")
    )
    .unwrap();

    // 2 atanh(s) = 2s + s³ Σ 2/(2k+1) s^(2k−2), e^r, sin y.
    let atanh: Vec<f64> = (1..=p.atanh_terms)
        .map(|k| 2.0 / (2 * k + 1) as f64)
        .collect();
    writeln!(
        s,
        "fn atanh_series(s: F) -> F {{\n    let s2 = s * s;\n    return 2.0 * s + s * s2 * ({});\n}}",
        horner(&atanh, "s2")
    )
    .unwrap();
    let mut fact = 1.0;
    let exp_c: Vec<f64> = (0..=p.exp_degree)
        .map(|k| {
            if k > 0 {
                fact *= k as f64;
            }
            1.0 / fact
        })
        .collect();
    writeln!(
        s,
        "fn exp_series(r: F) -> F {{ return {}; }}",
        horner(&exp_c, "r")
    )
    .unwrap();
    let mut fact = 1.0;
    let sin_c: Vec<f64> = (0..=p.sin_pairs)
        .map(|k| {
            if k > 0 {
                fact *= (2 * k) as f64 * (2 * k + 1) as f64;
            }
            if k % 2 == 0 {
                1.0 / fact
            } else {
                -1.0 / fact
            }
        })
        .collect();
    writeln!(
        s,
        "fn sin_series(y: F) -> F {{\n    let y2 = y * y;\n    return y * ({});\n}}",
        horner(&sin_c, "y2")
    )
    .unwrap();
    s
}

/// Smallest `√(v²+x²)` the kernel of this precision gives to the uniform expansion.
pub(crate) fn r_min(f64_mode: bool) -> f64 {
    if f64_mode {
        F64.r_min
    } else {
        F32.r_min
    }
}

/// The composed Bessel kernel (`vmf = false`) or vMF kernel, in f64 or f32 arithmetic.
pub(crate) fn variant(f64_mode: bool, vmf: bool) -> ShaderVariant {
    let p = if f64_mode { &F64 } else { &F32 };
    let mut defines = BTreeSet::new();
    if f64_mode {
        defines.insert("F64");
    }
    if vmf {
        defines.insert("VMF");
    }
    let mut source = format!("{}{}", generated(p), preprocess(BESSEL, &defines));
    if vmf {
        source.push_str(&preprocess(VMF, &defines));
    }
    let precision = if f64_mode { "f64" } else { "f32" };
    ShaderVariant {
        name: format!("{}_{precision}", if vmf { "vmf" } else { "bessel" }),
        source,
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: f64_mode,
    }
}
