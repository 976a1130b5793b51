//! int8 matmul and W8A8: bit-exact against the reference on every backend and variant.

mod common;

use common::*;
use lowbit::kernels::reference;
use lowbit::ops::int8::{self, int8_with};
use lowbit::{Context, Error, Tensor};

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 3, 17),
    (2, 33, 257),
    (3, 17, 31),
    (4, 257, 64),
    (1, 4097, 8),
    (5, 3, 17),
    (17, 33, 257),
    (33, 1, 65),
    (70, 65, 33),
];

fn data(m: usize, n: usize, k: usize, seed: u64) -> (Vec<i8>, Vec<i8>, Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let x = (0..m * k).map(|_| rng.i8()).collect();
    let w = (0..n * k).map(|_| rng.i8()).collect();
    let sx = (0..m).map(|_| rng.unit().abs() / 127.0 + 1e-4).collect();
    let sw = (0..n).map(|_| rng.unit().abs() / 127.0 + 1e-4).collect();
    (x, w, sx, sw)
}

fn check(
    ctx: &Context,
    (m, n, k): (usize, usize, usize),
    xv: &[i8],
    wv: &[i8],
    sx: &[f32],
    sw: &[f32],
) {
    let x = Tensor::from_slice(ctx, xv, &[m, k]).unwrap();
    let w = Tensor::from_slice(ctx, wv, &[n, k]).unwrap();
    let sxt = Tensor::from_slice(ctx, sx, &[m]).unwrap();
    let swt = Tensor::from_slice(ctx, sw, &[n]).unwrap();
    let acc_ref = reference::matmul_i8(xv, wv, m, n, k).unwrap();
    let y_ref = reference::w8a8(xv, sx, wv, sw, m, n, k).unwrap();
    for v in int8::variants(ctx, m) {
        let what = format!("{ctx:?} M={m} N={n} K={k} variant {}", v.name());
        let acc = int8_with(ctx, x.view(), w.view(), None, Some(v))
            .unwrap()
            .to_vec::<i32>()
            .unwrap();
        if let Some(i) = (0..acc.len()).find(|&i| acc[i] != acc_ref[i]) {
            panic!(
                "{what}: i32 accumulator differs at {i}: got {} expected {}",
                acc[i], acc_ref[i]
            );
        }
        let y = int8_with(
            ctx,
            x.view(),
            w.view(),
            Some((sxt.view(), swt.view())),
            Some(v),
        )
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
        if let Some(i) = (0..y.len()).find(|&i| y[i].to_bits() != y_ref[i].to_bits()) {
            panic!(
                "{what}: w8a8 output differs at {i}: got {} expected {}",
                y[i], y_ref[i]
            );
        }
    }
}

#[test]
fn int8_and_w8a8_are_bit_exact_on_every_backend_and_variant() {
    for ctx in all_contexts() {
        for &(m, n, k) in SHAPES {
            let (x, w, sx, sw) = data(m, n, k, (m * 31 + n * 7 + k) as u64);
            check(&ctx, (m, n, k), &x, &w, &sx, &sw);
        }
    }
}

#[test]
fn int8_extremes_are_exact() {
    // (-128)·(-128) summed 4097 times and mixed signs at the ends of the range.
    for ctx in all_contexts() {
        for &(m, n, k) in &[(1, 2, 4097), (6, 5, 4097), (2, 3, 4)] {
            let x = vec![-128i8; m * k];
            let w: Vec<i8> = (0..n * k)
                .map(|i| if i % 3 == 0 { 127 } else { -128 })
                .collect();
            check(&ctx, (m, n, k), &x, &w, &vec![1.0; m], &vec![0.5; n]);
        }
    }
}

#[test]
fn int8_bad_input_is_an_error() {
    for ctx in all_contexts() {
        let x = Tensor::from_slice(&ctx, &[1i8; 6], &[2, 3]).unwrap();
        let w = Tensor::from_slice(&ctx, &[1i8; 8], &[2, 4]).unwrap();
        assert!(
            matches!(int8::matmul_i8(&ctx, &x, &w), Err(Error::Shape(_))),
            "mismatched K"
        );
        let wf = Tensor::from_slice(&ctx, &[1.0f32; 6], &[2, 3]).unwrap();
        assert!(
            matches!(int8::matmul_i8(&ctx, &x, &wf), Err(Error::DType { .. })),
            "f32 weights"
        );
        let w3 = Tensor::from_slice(&ctx, &[1i8; 6], &[2, 3]).unwrap();
        let s1 = Tensor::from_slice(&ctx, &[1.0f32], &[1]).unwrap();
        let s2 = Tensor::from_slice(&ctx, &[1.0f32; 2], &[2]).unwrap();
        assert!(
            matches!(int8::w8a8(&ctx, &x, &s1, &w3, &s2), Err(Error::Shape(_))),
            "x_scale length"
        );
        let big = int8::MAX_K + 1;
        let xb = Tensor::zeros(&ctx, lowbit::DType::I8, &[1, big]).unwrap();
        let wb = Tensor::zeros(&ctx, lowbit::DType::I8, &[1, big]).unwrap();
        assert!(
            matches!(int8::matmul_i8(&ctx, &xb, &wb), Err(Error::Shape(_))),
            "K over the i32 limit"
        );
    }
}

#[test]
fn int8_at_the_largest_k_is_exact() {
    // K = MAX_K crosses llvmpipe's per-invocation loop limit in the tiled kernel unless sliced;
    // W8A8 must carry the exact i32 partial across slices and scale once.
    for ctx in all_contexts() {
        for &(m, n) in &[(6, 3), (2, 3)] {
            let k = int8::MAX_K;
            let (x, w, sx, sw) = data(m, n, k, 99);
            check(&ctx, (m, n, k), &x, &w, &sx, &sw);
        }
    }
}
