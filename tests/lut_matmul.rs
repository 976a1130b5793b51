//! The LUT matmul on every backend (each GPU adapter, the CPU at every SIMD level): the table
//! kernel with f32 and int8 tables and the dequantise-in-register kernel, bits 1–4, awkward
//! shapes (N = 1, odd N, K = 4, K = 68, K over several chunks, groups of 16 to K), 1 to 6
//! tokens (several dispatches on GPUs), each output within `lut::error_bound` of the f64
//! product of the dequantised weights; and bad input refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::lut::{error_bound, LutPrecision, LutWeights};
use lowbit::ops::{lut_kernel, lut_matmul, lut_matmul_with, LutKernel};
use lowbit::{Context, LutMatrix, Tensor};

fn random_weights(bits: u32, n: usize, k: usize, group: usize, rng: &mut Rng) -> LutWeights {
    let codes: Vec<u8> = (0..n * k)
        .map(|_| (rng.next_u64() % (1 << bits)) as u8)
        .collect();
    let g = k / group;
    let scales: Vec<f32> = (0..n * g).map(|_| rng.unit() * 0.1).collect();
    let zeros: Vec<f32> = (0..n * g)
        .map(|_| (rng.next_u64() % (2 << bits)) as f32 * 0.5)
        .collect();
    LutWeights::from_codes(bits, n, k, group, &codes, &scales, Some(&zeros)).unwrap()
}

const KERNELS: [LutKernel; 3] = [
    LutKernel::Table(LutPrecision::F32),
    LutKernel::Table(LutPrecision::Int8),
    LutKernel::Dequant,
];

#[test]
fn every_backend_kernel_bits_and_shape_within_the_bound() {
    let mut rng = Rng::new(21);
    let shapes: &[(usize, usize, usize)] = &[
        (1, 4, 4),
        (3, 68, 68),
        (17, 128, 32),
        (33, 272, 16),
        (40, 384, 128),
        (5, 260, 260),
    ];
    let contexts = all_contexts();
    for &(n, k, group) in shapes {
        for bits in 1..=4 {
            let w = random_weights(bits, n, k, group, &mut rng);
            let wd = w.dequantize();
            for m in [1usize, 3, 6] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
                for ctx in &contexts {
                    let wm = LutMatrix::new(ctx, &w).unwrap();
                    let xt = Tensor::from_slice(ctx, &x, &[m, k]).unwrap();
                    for kernel in KERNELS {
                        let y = lut_matmul_with(ctx, &xt, &wm, kernel)
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                        let prec = match kernel {
                            LutKernel::Table(p) => p,
                            LutKernel::Dequant => LutPrecision::F32,
                        };
                        for t in 0..m {
                            let xr = &x[t * k..(t + 1) * k];
                            for r in 0..n {
                                let want: f64 = (0..k)
                                    .map(|c| f64::from(wd[r * k + c]) * f64::from(xr[c]))
                                    .sum();
                                let bound = error_bound(&w, xr, r, prec);
                                let err = (f64::from(y[t * n + r]) - want).abs();
                                assert!(
                                    err <= bound,
                                    "{ctx:?} {} b{bits} n{n} k{k} g{group} m{m} token {t} \
                                     row {r}: {} vs {want}, err {err:e} > bound {bound:e}",
                                    kernel.name(),
                                    y[t * n + r]
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn dispatch_names_its_kernel_and_bad_input_is_an_error() {
    for ctx in all_contexts() {
        let (kernel, why) = lut_kernel(&ctx, LutPrecision::Int8);
        assert!(!why.is_empty());
        assert_eq!(kernel == LutKernel::Dequant, ctx.is_gpu());
        let w = LutWeights::from_codes(2, 3, 8, 8, &[1; 24], &[1.0; 3], None).unwrap();
        let wm = LutMatrix::new(&ctx, &w).unwrap();
        let x = Tensor::from_slice(&ctx, &[0.5f32; 8], &[1, 8]).unwrap();
        let y = lut_matmul(&ctx, &x, &wm, LutPrecision::F32).unwrap();
        assert_eq!(y.to_vec::<f32>().unwrap(), vec![-4.0; 3]);
        let bad = Tensor::from_slice(&ctx, &[0.5f32; 12], &[1, 12]).unwrap();
        assert!(lut_matmul(&ctx, &bad, &wm, LutPrecision::F32).is_err());
        let ints = Tensor::from_slice(&ctx, &[1i32; 8], &[1, 8]).unwrap();
        assert!(lut_matmul(&ctx, &ints, &wm, LutPrecision::Int8).is_err());
        let other = Context::cpu();
        if ctx.is_gpu() {
            let xc = Tensor::from_slice(&other, &[0.5f32; 8], &[1, 8]).unwrap();
            assert!(lut_matmul(&ctx, &xc, &wm, LutPrecision::F32).is_err());
        }
    }
}
