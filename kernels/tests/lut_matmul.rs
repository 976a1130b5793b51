//! The LUT matmul at every SIMD level of this machine, both table precisions, bits 1–4,
//! awkward shapes: within `lut::error_bound` of the f64 product of the dequantised weights,
//! every level bit-identical to the portable kernels, the int8 bound shown tight, and the
//! converters exact or refused.

mod common;

use common::Lcg;
use lowbit_kernels::formats::{dequantize_row, quantize_row, QuantType};
use lowbit_kernels::lut::convert::{from_quant, from_ternary};
use lowbit_kernels::lut::{dequant_matmul, error_bound, lut_matmul, LutPrecision, LutWeights};
use lowbit_kernels::simd::machine_levels;
use lowbit_kernels::SimdLevel;

/// Random codes, scales (some negative) and zero points (integers, and half-integers).
fn random_weights(bits: u32, n: usize, k: usize, group: usize, rng: &mut Lcg) -> LutWeights {
    let codes: Vec<u8> = (0..n * k)
        .map(|_| (rng.next() % (1 << bits)) as u8)
        .collect();
    let groups = k / group;
    let scales: Vec<f32> = (0..n * groups).map(|_| rng.unit() * 0.1).collect();
    let zeros: Vec<f32> = (0..n * groups)
        .map(|_| (rng.next() % (2 << bits)) as f32 * 0.5)
        .collect();
    LutWeights::from_codes(bits, n, k, group, &codes, &scales, Some(&zeros)).unwrap()
}

fn reference(w: &[f32], x: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
    let mut y = vec![0f64; m * n];
    for t in 0..m {
        for r in 0..n {
            y[t * n + r] = (0..k)
                .map(|c| f64::from(w[r * k + c]) * f64::from(x[t * k + c]))
                .sum();
        }
    }
    y
}

const PRECISIONS: [LutPrecision; 2] = [LutPrecision::F32, LutPrecision::Int8];

#[test]
fn every_level_bits_and_shape_within_the_bound() {
    let mut rng = Lcg(7);
    let shapes: &[(usize, usize, usize)] = &[
        // (n, k, group): K = 4 and 68 one scale per row, odd N, tiles with padding rows.
        (1, 4, 4),
        (3, 68, 68),
        (17, 128, 32),
        (33, 256, 64),
        (1, 256, 128),
        (40, 96, 16),
        (257, 64, 64),
        (5, 1028, 1028),
    ];
    for &(n, k, group) in shapes {
        for bits in 1..=4 {
            let w = random_weights(bits, n, k, group, &mut rng);
            let wd = w.dequantize();
            for m in [1usize, 3] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
                let want = reference(&wd, &x, m, n, k);
                for level in machine_levels() {
                    let mut y = vec![0f32; m * n];
                    dequant_matmul(level, 2, &w, &x, m, &mut y).unwrap();
                    for t in 0..m {
                        for r in 0..n {
                            let xr = &x[t * k..(t + 1) * k];
                            let bound = error_bound(&w, xr, r, LutPrecision::F32);
                            let err = (f64::from(y[t * n + r]) - want[t * n + r]).abs();
                            assert!(
                                err <= bound,
                                "dequant {level:?} b{bits} n{n} k{k} g{group} m{m} token {t} \
                                 row {r}: err {err:e} > bound {bound:e}"
                            );
                        }
                    }
                }
                for prec in PRECISIONS {
                    let mut base = None;
                    for level in machine_levels() {
                        for threads in [1, 2] {
                            let mut y = vec![0f32; m * n];
                            lut_matmul(level, threads, prec, &w, &x, m, &mut y).unwrap();
                            for t in 0..m {
                                for r in 0..n {
                                    let xr = &x[t * k..(t + 1) * k];
                                    let bound = error_bound(&w, xr, r, prec);
                                    let err = (f64::from(y[t * n + r]) - want[t * n + r]).abs();
                                    assert!(
                                        err <= bound,
                                        "{level:?} {prec:?} b{bits} n{n} k{k} g{group} m{m} \
                                         token {t} row {r}: err {err:e} > bound {bound:e}"
                                    );
                                }
                            }
                            let bits_of: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
                            match &base {
                                None => base = Some(bits_of),
                                Some(b) => assert_eq!(
                                    b, &bits_of,
                                    "{level:?} {prec:?} b{bits} n{n} k{k}: not the portable result"
                                ),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every int8 table entry of the chosen groups rounds by almost `ls/2` in the same direction
/// and every weight picks it: the error reaches > 90% of the bound, so the bound is tight.
#[test]
fn int8_bound_is_tight() {
    for bits in 1..=4 {
        let k = 64;
        // Group 0 sets the span scale: Σ|x| = 12.7 → ls = 0.1. The others are (a, 0, 0, 0)
        // with a/ls = 10.499: each entry ±a rounds to ±10, an error of ~0.5·ls.
        let mut x = vec![0f32; k];
        x[..4].copy_from_slice(&[12.7, 0.0, 0.0, 0.0]);
        for j in 1..k / 4 {
            x[4 * j] = 1.0499;
        }
        let top = (1u8 << bits) - 1;
        // All bits set: the index of every plane is 15, entry +x0 of each group.
        let codes = vec![top; k];
        let w = LutWeights::from_codes(bits, 1, k, k, &codes, &[1.0], Some(&[0.0])).unwrap();
        let want = reference(&w.dequantize(), &x, 1, 1, k)[0];
        let mut y = [0f32];
        lut_matmul(SimdLevel::Scalar, 1, LutPrecision::Int8, &w, &x, 1, &mut y).unwrap();
        let err = (f64::from(y[0]) - want).abs();
        let bound = error_bound(&w, &x, 0, LutPrecision::Int8);
        assert!(err <= bound, "b{bits}: {err:e} > {bound:e}");
        assert!(
            err > 0.9 * bound,
            "b{bits}: {err:e} is not near the bound {bound:e}"
        );
    }
}

#[test]
fn codes_round_trip_and_dequantize() {
    let mut rng = Lcg(3);
    for bits in 1..=4 {
        let (n, k, g) = (35, 48, 16);
        let codes: Vec<u8> = (0..n * k)
            .map(|_| (rng.next() % (1 << bits)) as u8)
            .collect();
        let scales: Vec<f32> = (0..n * k / g).map(|_| rng.unit()).collect();
        let w = LutWeights::from_codes(bits, n, k, g, &codes, &scales, None).unwrap();
        let wd = w.dequantize();
        let z = (1u32 << (bits - 1)) as f32;
        for r in 0..n {
            for c in 0..k {
                assert_eq!(w.code(r, c), codes[r * k + c]);
                let want = scales[r * k / g + c / g] * (f32::from(codes[r * k + c]) - z);
                assert_eq!(wd[r * k + c], want);
            }
        }
    }
}

#[test]
fn quantiser_reconstructs_within_half_a_step() {
    let mut rng = Lcg(11);
    let (n, k, g) = (9, 128, 32);
    let src: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    for bits in 1..=4 {
        let w = LutWeights::quantize(bits, n, k, g, &src).unwrap();
        let wd = w.dequantize();
        for (i, (&a, &b)) in src.iter().zip(&wd).enumerate() {
            let (s, _) = w.scale_zero(i / k, (i % k) / g);
            assert!(
                (a - b).abs() <= s.abs() * 0.5 + 1e-6,
                "b{bits} at {i}: {a} vs {b}"
            );
        }
    }
}

fn assert_exact(ty: QuantType, n: usize, k: usize, bytes: &[u8]) {
    let w = from_quant(ty, n, k, bytes).unwrap();
    let row = ty.row_bytes(k).unwrap();
    let mut want = vec![0f32; k];
    let got = w.dequantize();
    for r in 0..n {
        dequantize_row(ty, &bytes[r * row..(r + 1) * row], &mut want).unwrap();
        assert_eq!(&got[r * k..(r + 1) * k], &want[..], "{} row {r}", ty.name());
    }
}

#[test]
fn converters_are_exact() {
    let mut rng = Lcg(5);
    let (n, k) = (3, 512);
    let src: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    for ty in [QuantType::Q4_0, QuantType::TQ1_0, QuantType::TQ2_0] {
        let row = ty.row_bytes(k).unwrap();
        let mut bytes = vec![0u8; n * row];
        for r in 0..n {
            quantize_row(
                ty,
                &src[r * k..(r + 1) * k],
                &mut bytes[r * row..(r + 1) * row],
            )
            .unwrap();
        }
        assert_exact(ty, n, k, &bytes);
    }
    // I4G: random nibbles, zero points and scales.
    for ty in [QuantType::I4G32, QuantType::I4G64, QuantType::I4G128] {
        let bytes: Vec<u8> = (0..n * ty.row_bytes(k).unwrap())
            .map(|_| rng.next() as u8)
            .collect();
        let mut bytes = bytes;
        for b in bytes.chunks_mut(ty.block_bytes()) {
            b[1] &= 0x3B; // a finite f16 scale
            b[2] &= 15;
        }
        assert_exact(ty, n, k, &bytes);
    }
    // Q2_K with zero minimums converts; one non-zero minimum that is not s·z is refused.
    let mut q2: Vec<u8> = (0..n * QuantType::Q2_K.row_bytes(k).unwrap())
        .map(|_| rng.next() as u8)
        .collect();
    for b in q2.chunks_mut(84) {
        for s in &mut b[..16] {
            *s &= 15;
        }
        b[81] &= 0x3B;
        b[83] &= 0x3B;
    }
    assert_exact(QuantType::Q2_K, n, k, &q2);
    // Non-zero minimums: over many dmin values each conversion is exact or refused, and
    // some are refused (a minimum that is not s·z in f32 for every code present).
    let mut refused = 0;
    for dmin in (0x2800u16..0x3C00).step_by(97) {
        let mut q = q2.clone();
        q[0] = 0x37; // row 0's first sub-block: sc 7, m 3
        q[80..82].copy_from_slice(&0x3C00u16.to_le_bytes()); // d = 1
        q[82..84].copy_from_slice(&dmin.to_le_bytes());
        match from_quant(QuantType::Q2_K, n, k, &q) {
            Ok(_) => assert_exact(QuantType::Q2_K, n, k, &q),
            Err(e) => {
                assert!(e.to_string().contains("row 0"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0);
    assert!(from_quant(QuantType::Q6_K, 1, 256, &[0; 210]).is_err());
}

#[test]
fn ternary_values() {
    let vals: Vec<i8> = (0..3 * 20).map(|i| (i % 3) as i8 - 1).collect();
    let w = from_ternary(3, 20, &vals, 0.5).unwrap();
    let wd = w.dequantize();
    for (v, d) in vals.iter().zip(&wd) {
        assert_eq!(f32::from(*v) * 0.5, *d);
    }
    assert!(from_ternary(1, 4, &[0, 2, 0, 0], 1.0).is_err());
}

#[test]
fn bad_input_is_an_error() {
    let codes = vec![0u8; 64];
    let s = vec![1f32; 2];
    for (bits, n, k, g) in [
        (0, 1, 64, 32),
        (5, 1, 64, 32),
        (2, 1, 62, 62),
        (2, 1, 64, 24),
        (2, 0, 64, 32),
    ] {
        assert!(LutWeights::from_codes(bits, n, k, g, &codes, &s, None).is_err());
    }
    assert!(LutWeights::from_codes(2, 1, 64, 32, &codes, &s[..1], None).is_err());
    assert!(LutWeights::from_codes(2, 1, 64, 32, &codes[..60], &s, None).is_err());
    let mut big = codes.clone();
    big[9] = 4;
    let e = LutWeights::from_codes(2, 1, 64, 32, &big, &s, None).unwrap_err();
    assert!(e.to_string().contains("column 9"), "{e}");
    assert!(LutWeights::from_codes(2, 1, 64, 32, &codes, &[1.0, f32::NAN], None).is_err());
    let w = LutWeights::from_codes(2, 1, 64, 32, &codes, &s, None).unwrap();
    let mut y = vec![0f32; 1];
    assert!(lut_matmul(
        SimdLevel::Scalar,
        1,
        LutPrecision::F32,
        &w,
        &[0.0; 63],
        1,
        &mut y
    )
    .is_err());
    assert!(lut_matmul(
        SimdLevel::Scalar,
        1,
        LutPrecision::F32,
        &w,
        &[0.0; 64],
        1,
        &mut []
    )
    .is_err());
}

/// BitNet per tensor and Tequila per group of 128: the quantisers' ternary weights as LUT
/// planes dequantise to `γ·W̃` exactly, and the matmul stays within the bound.
#[test]
fn ternary_quantisers_through_the_lut() {
    use lowbit_kernels::lut::convert::from_ternary_groups;
    use lowbit_kernels::ternary::{absmean_ternary, absmean_ternary_groups};
    let mut rng = Lcg(17);
    let (n, k) = (9, 256);
    let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    let x: Vec<f32> = (0..k).map(|_| rng.unit()).collect();
    let (t, gamma) = absmean_ternary(&w);
    let lw = from_ternary(n, k, &t, gamma).unwrap();
    let (tg, sg) = absmean_ternary_groups(&w, n, k, 128).unwrap();
    let lg = from_ternary_groups(n, k, 128, &tg, &sg).unwrap();
    for (lw, want) in [
        (
            lw,
            t.iter().map(|&v| gamma * f32::from(v)).collect::<Vec<_>>(),
        ),
        (
            lg,
            tg.iter()
                .enumerate()
                .map(|(i, &v)| sg[i / 128] * f32::from(v))
                .collect(),
        ),
    ] {
        assert_eq!(lw.dequantize(), want);
        let wd = lw.dequantize();
        let reference = reference(&wd, &x, 1, n, k);
        for prec in PRECISIONS {
            let mut y = vec![0f32; n];
            lut_matmul(SimdLevel::Scalar, 1, prec, &lw, &x, 1, &mut y).unwrap();
            for r in 0..n {
                let err = (f64::from(y[r]) - reference[r]).abs();
                assert!(err <= error_bound(&lw, &x, r, prec), "{prec:?} row {r}");
            }
        }
    }
}
