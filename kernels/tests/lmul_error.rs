//! L-Mul's accuracy against the exact product, measured on 200 000 seeded operand pairs
//! (mantissas uniform, exponents over 2⁻⁴..2³, either sign), beside a float multiply with the
//! same mantissa width (operands and product rounded to m bits, to nearest even — e4m3's and
//! e5m2's multiply, exponent range aside). Run with `--nocapture` for the figures.
//!
//! The paper (arXiv 2410.00907) claims 3-bit-mantissa L-Mul beats an e5m2 multiply — measured
//! here: it does (5.7% vs 7.0% mean relative error) — and that 4-bit-mantissa L-Mul is as
//! precise as an e4m3 multiply — measured here: it is not (5.3% vs 3.5%): L-Mul's own error
//! (the dropped `x_m·y_m` term against the constant `2^(−l)`: 2.7% mean even with 23-bit
//! operands) is larger than e4m3's product rounding. The assertions pin these relations.

use lowbit_kernels::lmul::{lmul, round_mantissa};

fn operands() -> Vec<(f32, f32)> {
    let mut s = 0x1234_5678u64;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let mut one = move || {
        let mant = 1.0 + (next() % (1 << 23)) as f32 / (1u32 << 23) as f32;
        let exp = (next() % 8) as i32 - 4;
        let sign = if next() % 2 == 0 { 1.0 } else { -1.0 };
        sign * mant * 2f32.powi(exp)
    };
    (0..200_000).map(|_| (one(), one())).collect()
}

fn rounded(v: f32, m: u32) -> f32 {
    f32::from_bits(round_mantissa(v.to_bits(), m))
}

/// Mean relative error of `f(x, y)` against the exact `x·y`.
fn mean_err(ops: &[(f32, f32)], f: impl Fn(f32, f32) -> f32) -> f64 {
    let sum: f64 = ops
        .iter()
        .map(|&(x, y)| {
            let exact = f64::from(x) * f64::from(y);
            ((f64::from(f(x, y)) - exact) / exact).abs()
        })
        .sum();
    sum / ops.len() as f64
}

/// A float multiply with `m` mantissa bits: operands and the product rounded to m bits.
fn float_mul(x: f32, y: f32, m: u32) -> f32 {
    rounded(rounded(x, m) * rounded(y, m), m)
}

#[test]
fn mean_relative_error_against_the_papers_claims() {
    let ops = operands();
    let lm = |m: u32| mean_err(&ops, |x, y| lmul(x, y, m));
    let fm = |m: u32| mean_err(&ops, |x, y| float_mul(x, y, m));
    let (l2, l3, l4, l7, l23) = (lm(2), lm(3), lm(4), lm(7), lm(23));
    let (e5m2, e4m3) = (fm(2), fm(3));
    println!("mean relative error: L-Mul m=2 {l2:.4}, m=3 {l3:.4}, m=4 {l4:.4}, m=7 {l7:.4}, m=23 {l23:.4}");
    println!("float multiply: 2-bit mantissa (e5m2) {e5m2:.4}, 3-bit (e4m3) {e4m3:.4}");
    // Claim 1 holds: 3-bit L-Mul beats the e5m2 multiply.
    assert!(l3 < e5m2, "{l3} vs {e5m2}");
    // Claim 2 does not: 4-bit L-Mul is 1.3–1.7× the e4m3 multiply's error here.
    assert!(l4 > 1.3 * e4m3 && l4 < 1.7 * e4m3, "{l4} vs {e4m3}");
    // More mantissa bits never hurt, and past l(m) = 4 the approximation error dominates.
    assert!(l2 > l3 && l3 > l4 && l4 > l7 && (l7 - l23).abs() < 0.1 * l23);
    // The figures themselves, to three digits.
    for (got, want) in [
        (l3, 0.0575),
        (l4, 0.0527),
        (l23, 0.0266),
        (e5m2, 0.0705),
        (e4m3, 0.0351),
    ] {
        assert!((got - want).abs() < 0.002, "{got} vs {want}");
    }
}
