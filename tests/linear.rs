//! The linear layers, bias added in the kernel's epilogue: `linear` (dense), `w8a8_linear` and
//! `quant_linear`. For every variant and path on every backend the output is the same kernel's
//! matmul plus the bias, bit for bit (one f32 add after the dot product), at awkward shapes,
//! past one W binding, past one K slice of llvmpipe's tiled GEMM, and through the act-order
//! permutation; bad biases are errors.

mod common;

use common::{all_contexts, float_tensor, gpu_contexts, Rng};
use lowbit::ops::matmul::variants;
use lowbit::ops::{linear, linear_with, matmul_with};
use lowbit::{Context, DType, Error, Tensor};

/// The epilogue's output is the plain product plus the bias, bit for bit: `got[i]` is
/// `plain[i] + bias[i % n]` rounded once (`[M, n]` row-major; `bias` may be longer than `n`).
fn assert_bias_added(got: &[f32], plain: &[f32], (bias, n): (&[f32], usize), case: &str) {
    for (i, (g, p)) in got.iter().zip(plain).enumerate() {
        let want = p + bias[i % n];
        assert_eq!(g.to_bits(), want.to_bits(), "{case} at {i}");
    }
}

fn check(ctx: &Context, xd: DType, wd: DType, (m, n, k): (usize, usize, usize)) {
    let (_, x) = float_tensor(ctx, xd, &[m, k], 5 + k as u64);
    let (_, w) = float_tensor(ctx, wd, &[n, k], 6 + n as u64);
    let mut rng = Rng::new(n as u64);
    let b: Vec<f32> = (0..n).map(|_| rng.unit() * 4.0).collect();
    let bt = Tensor::from_slice(ctx, &b, &[n]).unwrap();
    for v in variants(ctx, xd, wd, m, k) {
        let plain = matmul_with(ctx, &x, &w, Some(v))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let got = linear_with(ctx, &x, &w, Some((&bt).into()), Some(v))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let case = format!(
            "{} {} x{xd} w{wd} {m}x{n}x{k}",
            ctx.info().backend,
            v.name()
        );
        assert_bias_added(&got, &plain, (&b, n), &case);
    }
}

#[test]
fn bias_is_added_after_every_variant() {
    for ctx in all_contexts() {
        for &shape in &[
            (1, 1, 1),
            (1, 17, 33),
            (3, 33, 264),
            (5, 3, 17),
            (33, 17, 257),
        ] {
            check(&ctx, DType::F16, DType::F16, shape);
            check(&ctx, DType::F32, DType::BF16, shape);
        }
        // K past one 4096-wide slice of llvmpipe's tiled GEMM: the bias joins on the last slice.
        check(&ctx, DType::F32, DType::F32, (6, 9, 4100));
        let (_, x) = float_tensor(&ctx, DType::F32, &[2, 8], 1);
        let (_, w) = float_tensor(&ctx, DType::F32, &[3, 8], 2);
        let plain = linear(&ctx, &x, &w, None).unwrap().to_vec::<f32>().unwrap();
        let reference = matmul_with(&ctx, &x, &w, None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(plain, reference, "no bias is the matmul");
    }
}

#[test]
fn bias_follows_w_across_bindings() {
    // 4 KiB bindings: W spans several, each chunk's outputs start at its own column.
    for base in gpu_contexts() {
        let info = base.info();
        let idx = lowbit::list_adapters()
            .into_iter()
            .find(|a| {
                a.info.name == info.name && lowbit::backend_name(a.info.backend) == info.backend
            })
            .unwrap()
            .index;
        let ctx = Context::with_adapter_limits(&idx.to_string(), Some(4096)).unwrap();
        check(&ctx, DType::F32, DType::F16, (1, 300, 33));
        check(&ctx, DType::F16, DType::F32, (6, 150, 31));
    }
}

#[test]
fn a_bad_bias_is_an_error() {
    for ctx in all_contexts() {
        let x = Tensor::zeros(&ctx, DType::F32, &[2, 8]).unwrap();
        let w = Tensor::zeros(&ctx, DType::F32, &[3, 8]).unwrap();
        for bad in [
            Tensor::zeros(&ctx, DType::F32, &[4]).unwrap(),
            Tensor::zeros(&ctx, DType::F16, &[3]).unwrap(),
        ] {
            assert!(matches!(
                linear(&ctx, &x, &w, Some((&bad).into())),
                Err(Error::Shape(_))
            ));
        }
        let elsewhere = Tensor::zeros(&Context::cpu(), DType::F32, &[3]).unwrap();
        if ctx.is_gpu() {
            assert!(linear(&ctx, &x, &w, Some((&elsewhere).into())).is_err());
        }
    }
}

#[test]
fn w8a8_bias_is_bit_exact_everywhere() {
    use lowbit::kernels::reference;
    use lowbit::ops::int8::variants as int8_variants;
    use lowbit::ops::w8a8_linear;
    for ctx in all_contexts() {
        // K past one slice of llvmpipe's tiled GEMM; odd K; M on both kernels.
        for &(m, n, k) in &[(1, 17, 33), (3, 5, 64), (9, 33, 257), (6, 7, 4100)] {
            let mut rng = Rng::new((m * n * k) as u64);
            let x: Vec<i8> = (0..m * k).map(|_| rng.i8()).collect();
            let w: Vec<i8> = (0..n * k).map(|_| rng.i8()).collect();
            let sx: Vec<f32> = (0..m).map(|_| rng.unit().abs() * 0.01 + 1e-4).collect();
            let sw: Vec<f32> = (0..n).map(|_| rng.unit().abs() * 0.01 + 1e-4).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.unit()).collect();
            let want: Vec<f32> = reference::w8a8(&x, &sx, &w, &sw, m, n, k)
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, v)| v + b[i % n])
                .collect();
            let t = |v: &[f32], len| Tensor::from_slice(&ctx, v, &[len]).unwrap();
            let (xt, wt) = (
                Tensor::from_slice(&ctx, &x, &[m, k]).unwrap(),
                Tensor::from_slice(&ctx, &w, &[n, k]).unwrap(),
            );
            let (sxt, swt, bt) = (t(&sx, m), t(&sw, n), t(&b, n));
            for v in int8_variants(&ctx, m) {
                let y = w8a8_linear(
                    &ctx,
                    ((&xt).into(), (&sxt).into()),
                    ((&wt).into(), (&swt).into()),
                    Some((&bt).into()),
                    Some(v),
                )
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
                assert_eq!(
                    common::bits(&y),
                    common::bits(&want),
                    "{} {} {m}x{n}x{k}",
                    ctx.info().backend,
                    v.name()
                );
            }
        }
    }
}

/// GPTQ int4 in act order (g_idx interleaving two groups): the path that permutes x first.
fn act_order(ctx: &Context, n: usize, k: usize) -> lowbit::QuantMatrix {
    use lowbit::kernels::formats::int4::from_gptq;
    let mut rng = Rng::new(77);
    let mut qweight = vec![0i32; k / 8 * n];
    for col in 0..k {
        for row in 0..n {
            qweight[(col / 8) * n + row] |= ((rng.next_u64() % 16) as i32) << (4 * (col % 8));
        }
    }
    let groups = k / 32;
    let qzeros = vec![0x7777_7777i32; groups * n / 8];
    let scales: Vec<half::f16> = (0..groups * n)
        .map(|_| half::f16::from_f32(rng.unit().abs() * 0.1 + 0.01))
        .collect();
    let g_idx: Vec<i32> = (0..k).map(|c| (c % groups) as i32).collect();
    let w = from_gptq(&qweight, &qzeros, &scales, Some(&g_idx), n, k, 32, false).unwrap();
    lowbit::QuantMatrix::from_int4(ctx, &w).unwrap()
}

#[test]
fn quantized_bias_is_added_after_every_path() {
    use lowbit::kernels::formats::QuantType;
    use lowbit::ops::{quant_linear_with, quant_matmul_with, QuantPath};
    use lowbit::QuantMatrix;
    for ctx in all_contexts() {
        let (n, k) = (33, 256);
        let mut rng = Rng::new(9);
        let wf: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
        let b: Vec<f32> = (0..n).map(|_| rng.unit() * 2.0).collect();
        let bt = Tensor::from_slice(&ctx, &b, &[n]).unwrap();
        let mut mats: Vec<(String, QuantMatrix)> = [
            QuantType::Q4_0,
            QuantType::Q8_0,
            QuantType::Q4_K,
            QuantType::Q6_K,
            QuantType::F16,
        ]
        .iter()
        .map(|&ty| {
            (
                ty.name().to_string(),
                QuantMatrix::quantize(&ctx, ty, n, k, &wf).unwrap(),
            )
        })
        .collect();
        mats.push(("gptq act-order".into(), act_order(&ctx, 32, k)));
        for (name, w) in &mats {
            let bw = Tensor::from_slice(&ctx, &b[..w.n()], &[w.n()]).unwrap();
            let bias = if w.n() == n { &bt } else { &bw };
            // M = 1 and 3: the GEMVs (exact and int8); 9: the tiled kernel.
            for m in [1, 3, 9] {
                let x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
                let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                for path in [QuantPath::Exact, QuantPath::Int8] {
                    let plain = quant_matmul_with(&ctx, &xt, w, path)
                        .unwrap()
                        .to_vec::<f32>()
                        .unwrap();
                    let got = quant_linear_with(&ctx, &xt, w, Some(bias.into()), path)
                        .unwrap()
                        .to_vec::<f32>()
                        .unwrap();
                    let case = format!("{} {name} M={m} {path:?}", ctx.info().backend);
                    assert_bias_added(&got, &plain, (&b, w.n()), &case);
                }
            }
        }
    }
}
