//! Ternary matmul on every backend: int8 activations give the CPU kernels' bits (both packings,
//! one and two planes, every scale grouping, with and without bias, every GPU variant, awkward
//! shapes and token counts past one pass of 4); f32 and f16 activations within `f32_error_bound`
//! (every GPU variant, x read 16 bytes at a time where K allows); bad input refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::ternary::{
    exact_matmul_f64, f32_error_bound, ternary_matmul_i8, TernaryWeights, TritPacking,
};
use lowbit::ops::ternary::{variants, TernaryVariant};
use lowbit::ops::{ternary_matmul, ternary_matmul_with};
use lowbit::{Context, Tensor, TernaryMatrix};

/// One test at a time: wgpu's GL backend panics when a thread waits over 6 s for the shared GL
/// context, and llvmpipe compiles some of these variants in ~3 s on an idle core.
static GL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    GL.lock().unwrap_or_else(|e| e.into_inner())
}

fn random(
    packing: TritPacking,
    (planes, n, k, group): (usize, usize, usize, usize),
    rng: &mut Rng,
) -> TernaryWeights {
    let t: Vec<i8> = (0..planes * n * k)
        .map(|_| (rng.next_u64() % 3) as i8 - 1)
        .collect();
    let s: Vec<f32> = (0..planes * n * (k / group))
        .map(|_| rng.unit() * 0.1)
        .collect();
    TernaryWeights::from_trits(packing, (planes, n, k, group), &t, &s).unwrap()
}

/// Every int8 GPU variant for `m` tokens on `ctx` (`w`'s), or the CPU backend's one kernel.
fn int8_variants(ctx: &Context, w: &TernaryMatrix, m: usize) -> Vec<Option<TernaryVariant>> {
    if ctx.is_gpu() {
        variants(w, lowbit::DType::I8, m)
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None]
    }
}

const SHAPES: [(usize, usize, usize, usize); 9] = [
    (1, 1, 1, 1),
    (1, 3, 3, 3),
    (2, 17, 17, 17),
    (1, 33, 257, 257),
    (1, 9, 256, 128),
    (2, 17, 1024, 256),
    (1, 257, 300, 300),
    (2, 5, 2048, 2048),
    (1, 12, 1280, 640),
];

#[test]
fn int8_bits_match_the_cpu_on_every_backend() {
    let _gl = serial();
    let mut rng = Rng::new(41);
    for packing in [TritPacking::Bits2, TritPacking::Base3] {
        for shape in SHAPES {
            let (_, n, k, _) = shape;
            let w = random(packing, shape, &mut rng);
            for m in [1usize, 3, 6] {
                let x: Vec<i8> = (0..m * k).map(|_| rng.next_u64() as u8 as i8).collect();
                let xs: Vec<f32> = (0..m).map(|_| rng.unit().abs() * 0.01 + 1e-4).collect();
                let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
                for with_bias in [false, true] {
                    let b = with_bias.then_some(&bias[..]);
                    let mut want = vec![0f32; m * n];
                    ternary_matmul_i8(1, &w, &x, &xs, b, &mut want).unwrap();
                    for ctx in all_contexts() {
                        let wm = TernaryMatrix::new(&ctx, &w).unwrap();
                        let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                        let st = Tensor::from_slice(&ctx, &xs, &[m]).unwrap();
                        let bt = Tensor::from_slice(&ctx, &bias, &[n]).unwrap();
                        // Every variant once; the bias and M = 3 by the default.
                        let vs = if !with_bias && m != 3 {
                            int8_variants(&ctx, &wm, m)
                        } else {
                            vec![None]
                        };
                        for v in vs {
                            let y = ternary_matmul_with(
                                &ctx,
                                (&xt).into(),
                                Some((&st).into()),
                                &wm,
                                with_bias.then(|| (&bt).into()),
                                v,
                            )
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                            assert_eq!(
                                common::bits(&y),
                                common::bits(&want),
                                "{ctx:?} {v:?} {shape:?} m{m} bias={with_bias}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// The largest unit sums: rows of all +1, all −1, all 0 and alternating trits against x all −128
/// and all +127 (the byte-mask kernels' 16-bit lanes at their maximum), compared bit for bit
/// with the CPU and with the exact sums.
#[test]
fn extreme_sums_are_exact() {
    let _gl = serial();
    let (n, k, m) = (4, 4096, 2);
    let row = |r: usize, i: usize| -> i8 {
        match r {
            0 => 1,
            1 => -1,
            2 => 0,
            _ => [1, -1][i % 2],
        }
    };
    let t: Vec<i8> = (0..n * k).map(|i| row(i / k, i % k)).collect();
    let x: Vec<i8> = (0..m * k).map(|i| if i < k { -128 } else { 127 }).collect();
    let xs = [1f32, 1.0];
    let exact: Vec<f32> = (0..m * n)
        .map(|o| {
            let (tok, r) = (o / n, o % n);
            (0..k)
                .map(|i| i64::from(x[tok * k + i]) * i64::from(row(r, i)))
                .sum::<i64>() as f32
        })
        .collect();
    for packing in [TritPacking::Bits2, TritPacking::Base3] {
        let w = TernaryWeights::from_trits(packing, (1, n, k, k), &t, &[1.0; 4]).unwrap();
        let mut want = vec![0f32; m * n];
        ternary_matmul_i8(1, &w, &x, &xs, None, &mut want).unwrap();
        assert_eq!(want, exact, "{packing:?} CPU");
        for ctx in all_contexts() {
            let wm = TernaryMatrix::new(&ctx, &w).unwrap();
            for mt in [1, m] {
                let xv = Tensor::from_slice(&ctx, &x[..mt * k], &[mt, k]).unwrap();
                let sv = Tensor::from_slice(&ctx, &xs[..mt], &[mt]).unwrap();
                for v in int8_variants(&ctx, &wm, mt) {
                    let y =
                        ternary_matmul_with(&ctx, (&xv).into(), Some((&sv).into()), &wm, None, v)
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                    assert_eq!(y, want[..mt * n], "{ctx:?} {v:?} m{mt}");
                }
            }
        }
    }
}

#[test]
fn float_x_within_the_bound_on_every_backend() {
    let _gl = serial();
    let mut rng = Rng::new(43);
    for packing in [TritPacking::Bits2, TritPacking::Base3] {
        for (i, shape) in SHAPES.into_iter().enumerate() {
            let (_, n, k, _) = shape;
            let w = random(packing, shape, &mut rng);
            // 5 tokens: one pass of 4 and one more; 1: the one-token kernels.
            let m = if i % 2 == 0 { 5 } else { 1 };
            let x: Vec<f32> = (0..m * k).map(|_| rng.unit() * 3.0).collect();
            let bias: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            for half in [false, true] {
                // f16 x: the CPU reference takes the same (rounded) values.
                let xh: Vec<half::f16> = x.iter().map(|&v| half::f16::from_f32(v)).collect();
                let xr: Vec<f32> = if half {
                    xh.iter().map(|v| v.to_f32()).collect()
                } else {
                    x.clone()
                };
                let exact = exact_matmul_f64(&w, &xr, m, Some(&bias));
                let bound = f32_error_bound(&w, &xr, m, Some(&bias));
                for ctx in all_contexts() {
                    let wm = TernaryMatrix::new(&ctx, &w).unwrap();
                    let xt = if half {
                        Tensor::from_slice(&ctx, &xh, &[m, k]).unwrap()
                    } else {
                        Tensor::from_slice(&ctx, &x, &[m, k]).unwrap()
                    };
                    let bt = Tensor::from_slice(&ctx, &bias, &[n]).unwrap();
                    // Every GPU variant for this x (x 16 bytes a load or not, a row a lane or
                    // eight lanes a row); the CPU backend's one kernel.
                    let dtype = xt.dtype();
                    let choices: Vec<Option<TernaryVariant>> = if ctx.is_gpu() {
                        variants(&wm, dtype, m).into_iter().map(Some).collect()
                    } else {
                        vec![None]
                    };
                    for v in choices {
                        let y = ternary_matmul_with(&ctx, xt.view(), None, &wm, Some(bt.view()), v)
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                        for i in 0..m * n {
                            assert!(
                                (f64::from(y[i]) - exact[i]).abs() <= f64::from(bound[i]),
                                "{ctx:?} {v:?} {shape:?} {} f16={half}: {} vs {} (bound {})",
                                packing.name(),
                                y[i],
                                exact[i],
                                bound[i]
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let _gl = serial();
    let mut rng = Rng::new(47);
    let w = random(TritPacking::Bits2, (1, 4, 64, 64), &mut rng);
    for ctx in all_contexts() {
        let wm = TernaryMatrix::new(&ctx, &w).unwrap();
        let x8 = Tensor::from_slice(&ctx, &[0i8; 128], &[2, 64]).unwrap();
        let xf = Tensor::from_slice(&ctx, &[0f32; 128], &[2, 64]).unwrap();
        let s2 = Tensor::from_slice(&ctx, &[1f32; 2], &[2]).unwrap();
        let s3 = Tensor::from_slice(&ctx, &[1f32; 3], &[3]).unwrap();
        let wrong_k = Tensor::from_slice(&ctx, &[0f32; 126], &[2, 63]).unwrap();
        assert!(
            ternary_matmul(&ctx, &x8, None, &wm, None).is_err(),
            "int8 without scales"
        );
        assert!(ternary_matmul(&ctx, &xf, Some((&s2).into()), &wm, None).is_err());
        assert!(ternary_matmul(&ctx, &x8, Some((&s3).into()), &wm, None).is_err());
        assert!(ternary_matmul(&ctx, &x8, Some((&s2).into()), &wm, Some((&s3).into())).is_err());
        assert!(ternary_matmul(&ctx, &wrong_k, None, &wm, None).is_err());
        assert!(ternary_matmul(&ctx, &x8, Some((&s2).into()), &wm, None).is_ok());
    }
}
