//! FP8 E4M3 / E5M2: every code decodes to its OCP value, f32 → FP8 rounds to nearest even and
//! saturates, and FP8 weights with row or tensor scales multiply on every backend within the
//! f32 bound (exact path) or the int8 bound (x quantised per 32), decode `fl(scale·value)`
//! bit-exact there.

mod common;

use lowbit::ops::{dequantize, quant_matmul_with, QuantPath};
use lowbit::{QuantMatrix, Tensor};
use lowbit_kernels::formats::fp8::{
    e4m3_to_f32, e5m2_to_f32, f32_to_e4m3, f32_to_e5m2, quantize_fp8, Fp8,
};
use lowbit_kernels::quant_matmul::int8_error_bound;

#[test]
fn codes_decode_to_ocp_values_and_convert_back() {
    assert_eq!(e4m3_to_f32(0x7e), 448.0);
    assert_eq!(e4m3_to_f32(0x01), 2f32.powi(-9));
    assert_eq!(e4m3_to_f32(0x08), 2f32.powi(-6));
    assert!(e4m3_to_f32(0x7f).is_nan() && e4m3_to_f32(0xff).is_nan());
    assert_eq!(e5m2_to_f32(0x7b), 57344.0);
    assert_eq!(e5m2_to_f32(0x01), 2f32.powi(-16));
    assert_eq!(e5m2_to_f32(0x7c), f32::INFINITY);
    assert!(e5m2_to_f32(0x7d).is_nan());
    // Every finite code converts back to itself (−0 to −0).
    for c in 0..=255u8 {
        let v = e4m3_to_f32(c);
        if !v.is_nan() {
            assert_eq!(f32_to_e4m3(v), c, "e4m3 {c:#04x} = {v}");
        }
        let v = e5m2_to_f32(c);
        if v.is_finite() {
            assert_eq!(f32_to_e5m2(v), c, "e5m2 {c:#04x} = {v}");
        }
    }
    // Halfway between 1 and 1.125 (E4M3) goes to the even code 1.0; between 1.125 and 1.25
    // to 1.25; past the maximum saturates, and E4M3 has no infinity.
    assert_eq!(e4m3_to_f32(f32_to_e4m3(1.0625)), 1.0);
    assert_eq!(e4m3_to_f32(f32_to_e4m3(1.1875)), 1.25);
    assert_eq!(f32_to_e4m3(1e6), 0x7e);
    assert_eq!(f32_to_e4m3(-1e6), 0xfe);
    assert_eq!(f32_to_e4m3(f32::INFINITY), 0x7e);
    assert_eq!(f32_to_e5m2(1e9), 0x7b);
    assert!(e4m3_to_f32(f32_to_e4m3(f32::NAN)).is_nan());
    // Subnormal halfway: 1.5·2⁻⁹ → 2·2⁻⁹ (even), 2.5·2⁻⁹ → 2·2⁻⁹.
    assert_eq!(
        e4m3_to_f32(f32_to_e4m3(1.5 * 2f32.powi(-9))),
        2.0 * 2f32.powi(-9)
    );
    assert_eq!(
        e4m3_to_f32(f32_to_e4m3(2.5 * 2f32.powi(-9))),
        2.0 * 2f32.powi(-9)
    );
}

#[test]
fn fp8_weights_on_every_backend() {
    let u = 1.0 / (1u64 << 24) as f64;
    let (n, k, m) = (17, 96, 3);
    let w: Vec<f32> = (0..n * k)
        .map(|i| (((i * 7919) % 211) as f32 / 211.0 - 0.5) * (1.0 + (i % 5) as f32))
        .collect();
    let x: Vec<f32> = (0..m * k)
        .map(|i| ((i * 31) % 29) as f32 / 29.0 - 0.5)
        .collect();
    for ctx in common::all_contexts() {
        for kind in [Fp8::E4M3, Fp8::E5M2] {
            let (codes, row_scales) = quantize_fp8(kind, &w, n, k).unwrap();
            for scales in [row_scales.clone(), vec![row_scales[0]]] {
                let q = QuantMatrix::from_fp8(&ctx, kind, &codes, &scales, n, k).unwrap();
                let value = |c: u8| match kind {
                    Fp8::E4M3 => e4m3_to_f32(c),
                    Fp8::E5M2 => e5m2_to_f32(c),
                };
                let want: Vec<f32> = (0..n * k)
                    .map(|i| scales[if scales.len() == 1 { 0 } else { i / k }] * value(codes[i]))
                    .collect();
                let got = dequantize(&q).unwrap().to_vec::<f32>().unwrap();
                for (g, e) in got.iter().zip(&want) {
                    assert_eq!(g.to_bits(), e.to_bits(), "{} {kind:?}", ctx.info().name);
                }
                let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                // Both paths: the exact one within the f32 bound, the int8 one (x quantised
                // per 32) within what quantising x may add as well.
                for path in [QuantPath::Exact, QuantPath::Int8] {
                    let y = quant_matmul_with(&ctx, &xt, &q, path)
                        .unwrap()
                        .to_vec::<f32>()
                        .unwrap();
                    for t in 0..m {
                        let xr = &x[t * k..(t + 1) * k];
                        for row in 0..n {
                            let wr = &want[row * k..(row + 1) * k];
                            let (mut exact, mut mag) = (0.0f64, 0.0f64);
                            for (&a, &b) in wr.iter().zip(xr) {
                                let p = f64::from(a) * f64::from(b);
                                exact += p;
                                mag += p.abs();
                            }
                            let r = match path {
                                QuantPath::Int8 => int8_error_bound(wr, xr),
                                QuantPath::Exact => 0.0,
                            };
                            let bound = r + (k as f64 + 2.0) * u * (mag + r) + u * exact.abs();
                            let got = f64::from(y[t * n + row]);
                            assert!(
                                (got - exact).abs() <= bound,
                                "{} {kind:?} {path:?} token {t} row {row}: {got} vs {exact} ± {bound}",
                                ctx.info().name
                            );
                        }
                    }
                }
            }
        }
        assert!(QuantMatrix::from_fp8(&ctx, Fp8::E4M3, &[0; 40], &[1.0], 1, 40).is_err());
        assert!(QuantMatrix::from_fp8(&ctx, Fp8::E4M3, &[0; 64], &[1.0; 3], 2, 32).is_err());
    }
}

/// Every code of both formats through both paths on every backend: one code per row, x one-hot
/// (quantised exactly: a single ±1 in its block), so each output is the code's value (times a
/// scale of 1), NaN where the value is NaN or infinite (`0·∞` joins the sum), as the
/// reference's f64 sum of `w·x` gives. Catches a decoder that misses NaN codes, subnormals or
/// signs (the CPU-type adapters convert the codes as f16, the others by integer operations).
/// K = 128 takes the CPU-type adapters' four-block vec4 units, K = 64 their one-block units.
#[test]
fn every_fp8_code_on_every_backend() {
    let n = 256;
    for ctx in common::all_contexts() {
        for (kind, k) in [
            (Fp8::E4M3, 64),
            (Fp8::E5M2, 64),
            (Fp8::E4M3, 128),
            (Fp8::E5M2, 128),
        ] {
            let value = |c: u8| match kind {
                Fp8::E4M3 => e4m3_to_f32(c),
                Fp8::E5M2 => e5m2_to_f32(c),
            };
            let codes: Vec<u8> = (0..n * k).map(|i| (i / k) as u8).collect();
            let q = QuantMatrix::from_fp8(&ctx, kind, &codes, &[1.0], n, k).unwrap();
            for hot in [0, 13, 40, k - 1] {
                for sign in [1.0f32, -1.0] {
                    let mut x = vec![0.0f32; k];
                    x[hot] = sign;
                    let xt = Tensor::from_slice(&ctx, &x, &[1, k]).unwrap();
                    for path in [QuantPath::Exact, QuantPath::Int8] {
                        let y = quant_matmul_with(&ctx, &xt, &q, path)
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                        for (code, &got) in y.iter().enumerate() {
                            let v = value(code as u8);
                            let ok = if v.is_finite() {
                                got == sign * v
                            } else {
                                got.is_nan()
                            };
                            assert!(
                                ok,
                                "{} {kind:?} {path:?} x[{hot}] = {sign}, code {code:#04x}: {got} vs {}",
                                ctx.info().name,
                                sign * v
                            );
                        }
                    }
                }
            }
        }
    }
}

/// One NaN code anywhere in a row makes that row's output NaN on every backend and path: row j
/// holds a NaN code (0x7f, 0xff alternately) at position j among ones (0x38), so a decoder
/// that checks only some words or bytes of a block for NaN misses some rows. K = 128 takes the
/// CPU-type adapters' four-block units.
#[test]
fn one_nan_code_anywhere_makes_its_row_nan() {
    let k = 128;
    let n = k;
    let mut codes = vec![0x38u8; n * k];
    for j in 0..n {
        codes[j * k + j] = if j % 2 == 0 { 0x7f } else { 0xff };
    }
    for ctx in common::all_contexts() {
        let q = QuantMatrix::from_fp8(&ctx, Fp8::E4M3, &codes, &[1.0], n, k).unwrap();
        let xt = Tensor::from_slice(&ctx, &vec![1.0f32; k], &[1, k]).unwrap();
        for path in [QuantPath::Exact, QuantPath::Int8] {
            let y = quant_matmul_with(&ctx, &xt, &q, path)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            for (j, v) in y.iter().enumerate() {
                assert!(v.is_nan(), "{} {path:?} row {j}: {v}", ctx.info().name);
            }
        }
    }
}
