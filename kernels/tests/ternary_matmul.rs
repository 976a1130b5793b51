//! Ternary matmul at every SIMD level of this machine, both packings, one and two planes, every
//! scale grouping, awkward shapes: int8 activations bit-identical to an independent statement
//! of the documented f32 order, f32 activations within `f32_error_bound`; the converters exact
//! or refused.

mod common;

use common::Lcg;
use lowbit_kernels::formats::{dequantize_row, quantize_row, QuantType};
use lowbit_kernels::simd::machine_levels;
use lowbit_kernels::ternary::{
    absmax_int8, exact_matmul_f64, f32_error_bound, kernel_level, ternary_matmul_f32,
    ternary_matmul_i8_at, TernaryWeights, TritPacking, PARTIALS, UNIT,
};

/// Trits and int8 values for these tests.
trait Draws {
    fn trits(&mut self, len: usize) -> Vec<i8>;
    fn i8s(&mut self, len: usize) -> Vec<i8>;
}

impl Draws for Lcg {
    fn trits(&mut self, len: usize) -> Vec<i8> {
        (0..len).map(|_| (self.next() % 3) as i8 - 1).collect()
    }
    fn i8s(&mut self, len: usize) -> Vec<i8> {
        // The whole range, −128 included.
        (0..len).map(|_| (self.next() % 256) as u8 as i8).collect()
    }
}

const PACKINGS: [TritPacking; 2] = [TritPacking::Bits2, TritPacking::Base3];

fn weights(
    packing: TritPacking,
    (planes, n, k, group): (usize, usize, usize, usize),
    rng: &mut Lcg,
) -> TernaryWeights {
    let t = rng.trits(planes * n * k);
    let s: Vec<f32> = (0..planes * n * (k / group))
        .map(|_| rng.unit() * 0.05)
        .collect();
    TernaryWeights::from_trits(packing, (planes, n, k, group), &t, &s).unwrap()
}

/// The documented order, written out again from the module docs (not the crate's code).
fn documented(w: &TernaryWeights, x: &[i8], xs: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = (w.n(), w.k());
    let m = xs.len();
    let units = w.padded_k() / UNIT;
    let mut y = vec![0f32; m * n];
    for t in 0..m {
        for r in 0..n {
            let unit_sum = |p: usize, u: usize| -> i64 {
                (u * UNIT..((u + 1) * UNIT).min(k))
                    .map(|c| i64::from(x[t * k + c]) * i64::from(w.trit(p, r, c)))
                    .sum()
            };
            let group_of = |u: usize| {
                if w.group() == k {
                    0
                } else {
                    u * UNIT / w.group()
                }
            };
            let mut acc = [0f32; PARTIALS];
            for (j, a) in acc.iter_mut().enumerate() {
                for p in 0..w.planes() {
                    let us: Vec<usize> = (j..units).step_by(PARTIALS).collect();
                    for run in us.chunk_by(|&a, &b| group_of(a) == group_of(b)) {
                        let s: i64 = run.iter().map(|&u| unit_sum(p, u)).sum();
                        *a += w.scale(p, r, group_of(run[0])) * s as f32;
                    }
                }
            }
            let tree =
                ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            y[t * n + r] = tree * xs[t] + bias.map_or(0.0, |b| b[r]);
        }
    }
    y
}

/// (planes, n, k, group) over awkward shapes and every grouping.
fn shapes() -> Vec<(usize, usize, usize, usize)> {
    let mut v = Vec::new();
    for (n, k) in [
        (1, 1),
        (3, 3),
        (17, 17),
        (33, 128),
        (5, 257),
        (9, 300),
        (40, 1024),
        (257, 256),
    ] {
        v.push((1, n, k, k));
        v.push((2, n, k, k));
    }
    for (n, k, g) in [
        (3, 256, 128),
        (17, 1024, 128),
        (33, 1024, 256),
        (6, 2048, 512),
        (5, 1280, 640),
    ] {
        v.push((1, n, k, g));
        v.push((2, n, k, g));
    }
    v
}

#[test]
fn int8_every_level_matches_the_documented_order() {
    let mut rng = Lcg(7);
    for packing in PACKINGS {
        for shape in shapes() {
            let w = weights(packing, shape, &mut rng);
            let (_, n, k, _) = shape;
            for m in [1, 3, 5] {
                let x = rng.i8s(m * k);
                let xs: Vec<f32> = (0..m).map(|_| rng.unit().abs() * 0.02 + 1e-3).collect();
                let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
                for b in [None, Some(&bias[..])] {
                    let want = documented(&w, &x, &xs, b);
                    for level in machine_levels() {
                        for threads in [1, 2] {
                            let mut y = vec![f32::NAN; m * n];
                            ternary_matmul_i8_at(level, threads, &w, &x, &xs, b, &mut y).unwrap();
                            let same = y.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits());
                            assert!(
                                same,
                                "{} {shape:?} m={m} bias={} level {}: {:?} vs {:?}",
                                packing.name(),
                                b.is_some(),
                                kernel_level(level),
                                &y[..y.len().min(4)],
                                &want[..want.len().min(4)]
                            );
                        }
                    }
                    // And the documented order is close to the exact product.
                    let xf: Vec<f32> = (0..m * k).map(|i| f32::from(x[i]) * xs[i / k]).collect();
                    let ex = exact_matmul_f64(&w, &xf, m, b);
                    let bound = f32_error_bound(&w, &xf, m, b);
                    for i in 0..m * n {
                        assert!(
                            (f64::from(want[i]) - ex[i]).abs() <= f64::from(bound[i]),
                            "{shape:?} output {i}: {} vs {}",
                            want[i],
                            ex[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn f32_activations_within_the_bound() {
    let mut rng = Lcg(11);
    for packing in PACKINGS {
        for shape in shapes() {
            let w = weights(packing, shape, &mut rng);
            let (_, n, k, _) = shape;
            let m = 3;
            let x: Vec<f32> = (0..m * k).map(|_| rng.unit() * 4.0).collect();
            let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            let mut y = vec![f32::NAN; m * n];
            ternary_matmul_f32(2, &w, &x, m, Some(&bias), &mut y).unwrap();
            let ex = exact_matmul_f64(&w, &x, m, Some(&bias));
            let bound = f32_error_bound(&w, &x, m, Some(&bias));
            for i in 0..m * n {
                assert!(
                    (f64::from(y[i]) - ex[i]).abs() <= f64::from(bound[i]),
                    "{} {shape:?} output {i}: {} vs {} (bound {})",
                    packing.name(),
                    y[i],
                    ex[i],
                    bound[i]
                );
            }
        }
    }
}

#[test]
fn packings_hold_the_trits() {
    let mut rng = Lcg(3);
    for k in [1, 3, 127, 128, 129, 255, 256, 257, 300, 512] {
        let t = rng.trits(2 * 5 * k);
        let s = vec![1.0; 2 * 5];
        for packing in PACKINGS {
            let w = TernaryWeights::from_trits(packing, (2, 5, k, k), &t, &s).unwrap();
            assert_eq!(w.trits(), t, "{} k={k}", packing.name());
            assert_eq!(w.repacked(TritPacking::Bits2).trits(), t);
            assert_eq!(w.codes().len(), 2 * 5 * w.row_bytes());
        }
    }
}

#[test]
fn gguf_ternary_rows_convert_exactly() {
    let mut rng = Lcg(5);
    let (n, k) = (3, 512);
    let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    for (ty, bytes) in [(QuantType::TQ2_0, 66), (QuantType::TQ1_0, 54)] {
        let mut q = vec![0u8; n * k / 256 * bytes];
        for (src, dst) in w.chunks(k).zip(q.chunks_mut(k / 256 * bytes)) {
            quantize_row(ty, src, dst).unwrap();
        }
        let tw = match ty {
            QuantType::TQ2_0 => TernaryWeights::from_tq2_0(&q, n, k).unwrap(),
            _ => TernaryWeights::from_tq1_0(&q, n, k).unwrap(),
        };
        let mut want = vec![0f32; n * k];
        for (src, dst) in q.chunks(k / 256 * bytes).zip(want.chunks_mut(k)) {
            dequantize_row(ty, src, dst).unwrap();
        }
        assert_eq!(tw.dequantize(), want, "{ty:?}");
        // The codes are kept as they are.
        assert_eq!(tw.codes()[..32], q[..32], "{ty:?}");
        // Corruptions are refused.
        let mut bad = q.clone();
        bad[5] = match ty {
            QuantType::TQ2_0 => 0b11,
            _ => 1, // decodes as byte 0's trits, but the encoder never makes it
        };
        let e = match ty {
            QuantType::TQ2_0 => TernaryWeights::from_tq2_0(&bad, n, k),
            _ => TernaryWeights::from_tq1_0(&bad, n, k),
        };
        assert!(e.is_err(), "{ty:?} corrupt byte accepted");
        assert!(TernaryWeights::from_tq2_0(&q[1..], n, k).is_err());
    }
    // TQ1_0's qh bytes carry four trits: a fifth is corrupt.
    let mut q = vec![0u8; 54];
    quantize_row(QuantType::TQ1_0, &w[..256], &mut q).unwrap();
    q[48] = 2; // ⌈1·256/243⌉: digits 0, 0, 0, 0, 1
    assert!(TernaryWeights::from_tq1_0(&q, 1, 256).is_err());
}

#[test]
fn i2_s_layout() {
    let mut rng = Lcg(9);
    let (n, k) = (2, 256);
    let t = rng.trits(n * k);
    // bitnet.cpp x86: byte p of each 128-block holds p, p+32, p+64, p+96 at bits 7:6 … 1:0.
    let mut bytes = vec![0u8; n * k / 4];
    for (j, &tv) in t.iter().enumerate() {
        let (blk, e) = (j / 128, j % 128);
        bytes[blk * 32 + e % 32] |= ((tv + 1) as u8) << (6 - 2 * (e / 32));
    }
    let w = TernaryWeights::from_i2_s(&bytes, 0.25, n, k).unwrap();
    assert_eq!(w.trits(), t);
    assert_eq!(w.scales(), &[0.25, 0.25]);
    bytes[3] = 0xFF;
    assert!(TernaryWeights::from_i2_s(&bytes, 0.25, n, k).is_err());
    assert!(TernaryWeights::from_i2_s(&bytes[1..], 0.25, n, k).is_err());
}

#[test]
fn bitnet_a8_end_to_end() {
    // absmean weights, absmax activations: the int8 result is the f32 result of the same
    // quantised operands.
    let mut rng = Lcg(13);
    let (n, k) = (17, 384);
    let wf: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    let w = TernaryWeights::absmean(TritPacking::Bits2, &wf, n, k).unwrap();
    let xf: Vec<f32> = (0..k).map(|_| rng.unit() * 3.0).collect();
    let (q, s) = absmax_int8(&xf);
    let mut y = vec![0f32; n];
    ternary_matmul_i8_at(
        lowbit_kernels::SimdLevel::Avx512,
        1,
        &w,
        &q,
        &[1.0 / s],
        None,
        &mut y,
    )
    .unwrap();
    let xd: Vec<f32> = q.iter().map(|&v| f32::from(v) / s).collect();
    let ex = exact_matmul_f64(&w, &xd, 1, None);
    let bound = f32_error_bound(&w, &xd, 1, None);
    for i in 0..n {
        assert!((f64::from(y[i]) - ex[i]).abs() <= f64::from(bound[i]));
    }
    let g = TernaryWeights::absmean_groups(TritPacking::Base3, &wf, (n, k, 128)).unwrap();
    assert_eq!(g.groups(), 3);
}

#[test]
fn bad_input_is_an_error() {
    let t = vec![0i8; 256];
    let s = vec![1.0f32; 2];
    let b2 = TritPacking::Bits2;
    assert!(TernaryWeights::from_trits(b2, (1, 2, 128, 128), &t, &s).is_ok());
    assert!(TernaryWeights::from_trits(b2, (3, 2, 128, 128), &t, &s).is_err()); // planes
    assert!(TernaryWeights::from_trits(b2, (1, 2, 128, 64), &t, &s).is_err()); // group
    assert!(TernaryWeights::from_trits(b2, (1, 2, 100, 128), &t, &s).is_err()); // lengths
    let mut t2 = t.clone();
    t2[7] = 2;
    assert!(TernaryWeights::from_trits(b2, (1, 2, 128, 128), &t2, &s).is_err());
    assert!(TernaryWeights::from_trits(b2, (1, 2, 128, 128), &t, &[1.0, f32::NAN]).is_err());
    assert!(TernaryWeights::trit_planes(b2, (2, 64), (&t[..128], &s), (&t[..64], &s)).is_err());
    let w = TernaryWeights::from_trits(b2, (1, 2, 128, 128), &t, &s).unwrap();
    let mut y = vec![0f32; 2];
    let x = vec![0i8; 128];
    assert!(ternary_matmul_i8_at(
        lowbit_kernels::SimdLevel::Scalar,
        1,
        &w,
        &x[1..],
        &[1.0],
        None,
        &mut y
    )
    .is_err());
    assert!(ternary_matmul_i8_at(
        lowbit_kernels::SimdLevel::Scalar,
        1,
        &w,
        &x,
        &[1.0],
        Some(&[0.0]),
        &mut y
    )
    .is_err());
    assert!(ternary_matmul_i8_at(
        lowbit_kernels::SimdLevel::Scalar,
        1,
        &w,
        &x,
        &[1.0, 1.0],
        None,
        &mut y
    )
    .is_err());
    assert!(ternary_matmul_f32(1, &w, &[0.0; 127], 1, None, &mut y).is_err());
}
