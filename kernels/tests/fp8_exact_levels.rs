//! The FP8 row kernels at every SIMD level decode every code exactly: W holds one code per
//! row (all 256), x is one-hot, so each output is `scale·value(code)` with no other rounding
//! and must equal the reference decoder bit for bit (NaN where the value is NaN or infinite,
//! as `0·∞` joins the sum).

use lowbit_kernels::formats::fp8::{e4m3_to_f32, e5m2_to_f32};
use lowbit_kernels::formats::QuantType;
use lowbit_kernels::quant_matmul::{quant_matmul, quant_matmul_with, QuantPath, WeightFacts};
use lowbit_kernels::simd::machine_levels;

mod common;
use common::Lcg;

#[test]
fn every_fp8_code_at_every_level() {
    let k = 32;
    for (ty, value) in [
        (QuantType::F8E4M3, e4m3_to_f32 as fn(u8) -> f32),
        (QuantType::F8E5M2, e5m2_to_f32),
    ] {
        // A plain scale, one that rounds every product, a subnormal one, and one whose
        // product with 2⁸ overflows.
        for scale in [1.0f32, 0.3712, 1.0e-40, 3.0e38] {
            let mut w = Vec::new();
            for code in 0..=255u8 {
                w.extend_from_slice(&scale.to_le_bytes());
                w.extend(std::iter::repeat_n(code, k));
            }
            for hot in [0, 9, 18, 31] {
                let mut x = vec![0.0f32; k];
                x[hot] = 1.0;
                for level in machine_levels() {
                    for path in [QuantPath::Exact, QuantPath::Int8] {
                        let mut y = vec![0.0f32; 256];
                        quant_matmul(path, level, 1, ty, &w, &x, 1, 256, k, &mut y).unwrap();
                        for (code, &got) in y.iter().enumerate() {
                            let want = scale * value(code as u8);
                            // (±0: the zero products of the other 31 codes make any sum +0.)
                            let ok = if want == 0.0 {
                                got == 0.0
                            } else if want.is_finite() {
                                got.to_bits() == want.to_bits()
                            } else {
                                got.is_nan()
                            };
                            assert!(
                                ok,
                                "{} {level:?} {path:?} scale {scale} code {code:#04x}: {got} vs {want}",
                                ty.name()
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Rows whose block scales change and repeat (the one-token kernel adds `Σ v·x` over each run
/// of equal scales and scales it once): every level and path within the f32 bound of the
/// reference weights `scale·value` times x.
#[test]
fn runs_of_block_scales_within_the_f32_bound() {
    let u = 1.0 / (1u64 << 24) as f64;
    let pattern = [0.5f32, 0.5, 1.75, 1.75, 1.75, 0.5, 3.0e-3, 3.0e-3, 0.25];
    let k = 32 * pattern.len();
    let mut rng = Lcg(29);
    for (ty, value) in [
        (QuantType::F8E4M3, e4m3_to_f32 as fn(u8) -> f32),
        (QuantType::F8E5M2, e5m2_to_f32),
    ] {
        let n = 3;
        let mut w = Vec::new();
        let mut deq = Vec::new();
        for row in 0..n {
            for b in 0..pattern.len() {
                // Each row its own rotation of the pattern (the runs start and end anywhere),
                // the last one negated.
                let sign = if row == n - 1 { -1.0 } else { 1.0 };
                let scale = sign * pattern[(b + row) % pattern.len()];
                w.extend_from_slice(&scale.to_le_bytes());
                for _ in 0..32 {
                    // Finite codes only: E4M3's NaN and E5M2's top exponent moved down.
                    let mut c = rng.next() as u8;
                    if (ty == QuantType::F8E4M3 && c & 0x7f == 0x7f)
                        || (ty == QuantType::F8E5M2 && c & 0x7c == 0x7c)
                    {
                        c ^= 0x04;
                    }
                    w.push(c);
                    deq.push(scale * value(c));
                }
            }
        }
        let x: Vec<f32> = (0..k).map(|_| rng.unit()).collect();
        for level in machine_levels() {
            for path in [QuantPath::Exact, QuantPath::Int8] {
                let mut y = vec![0.0f32; n];
                quant_matmul(path, level, 1, ty, &w, &x, 1, n, k, &mut y).unwrap();
                for (j, &got) in y.iter().enumerate() {
                    let wr = &deq[j * k..(j + 1) * k];
                    let exact: f64 = wr
                        .iter()
                        .zip(&x)
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum();
                    let mag: f64 = wr
                        .iter()
                        .zip(&x)
                        .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs())
                        .sum();
                    let bound = (k as f64 + 2.0) * u * mag + u * exact.abs();
                    assert!(
                        (f64::from(got) - exact).abs() <= bound,
                        "{} {level:?} {path:?} row {j}: {got} vs {exact} ± {bound}",
                        ty.name()
                    );
                }
            }
        }
    }
}

/// E4M3 weights without NaN codes: the kernels told so (`WeightFacts`, which skips the NaN
/// blend) give the same bits as without the fact, at every level, path and token count; a
/// single NaN code anywhere makes the fact false.
#[test]
fn nan_free_facts_give_the_same_bits() {
    let (n, k) = (5, 32 * 9);
    let mut rng = Lcg(31);
    let mut w = Vec::new();
    for _ in 0..n * k / 32 {
        w.extend_from_slice(&(0.25f32 + (rng.next() % 64) as f32 / 32.0).to_le_bytes());
        for _ in 0..32 {
            let c = rng.next() as u8;
            w.push(if c & 0x7f == 0x7f { c ^ 0x04 } else { c });
        }
    }
    let ty = QuantType::F8E4M3;
    let facts = WeightFacts::of(ty, &w);
    assert!(facts.e4m3_nan_free);
    for m in 1..=5 {
        let x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
        for level in machine_levels() {
            for path in [QuantPath::Exact, QuantPath::Int8] {
                let (mut plain, mut told) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
                quant_matmul(path, level, 1, ty, &w, &x, m, n, k, &mut plain).unwrap();
                quant_matmul_with(facts, path, level, 1, ty, &w, &x, m, n, k, &mut told).unwrap();
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&plain), bits(&told), "{level:?} {path:?} m{m}");
            }
        }
    }
    let mut with_nan = w.clone();
    with_nan[36 * 7 + 4 + 13] = 0xff;
    assert!(!WeightFacts::of(ty, &with_nan).e4m3_nan_free);
    assert!(!WeightFacts::of(QuantType::F8E5M2, &w).e4m3_nan_free);
}
