//! `ops::add_bias`, the bias epilogue for every matmul op: on every backend the outputs of the
//! dense, int8 (W8A8), quantized, LUT, shift and L-Mul matmuls plus a bias equal each output
//! plus the bias, bit for bit; bad shapes and dtypes refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::formats::QuantType;
use lowbit::kernels::lut::LutWeights;
use lowbit::kernels::shift::ShiftWeights;
use lowbit::ops::{
    add_bias, lmul_matmul, lut_matmul, matmul, quant_matmul, shift_matmul, w8a8, LutPrecision,
};
use lowbit::{LutMatrix, QuantMatrix, ShiftMatrix, Tensor};

#[test]
fn bias_adds_to_every_op_output() {
    let mut rng = Rng::new(61);
    let (m, n, k) = (3usize, 17usize, 64usize);
    let x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
    let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    let x8: Vec<i8> = (0..m * k).map(|_| rng.next_u64() as u8 as i8).collect();
    let w8: Vec<i8> = (0..n * k).map(|_| rng.next_u64() as u8 as i8).collect();
    let bias: Vec<f32> = (0..n).map(|_| rng.unit() * 3.0).collect();
    for ctx in all_contexts() {
        let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
        let wt = Tensor::from_slice(&ctx, &w, &[n, k]).unwrap();
        let bt = Tensor::from_slice(&ctx, &bias, &[n]).unwrap();
        let q = QuantMatrix::quantize(&ctx, QuantType::Q4_0, n, k, &w).unwrap();
        let lw = LutMatrix::new(&ctx, &LutWeights::quantize(2, n, k, 32, &w).unwrap()).unwrap();
        let sw = ShiftMatrix::new(
            &ctx,
            &ShiftWeights::quantize(5, true, (n, k, k), &w).unwrap(),
        )
        .unwrap();
        let x8t = Tensor::from_slice(&ctx, &x8, &[m, k]).unwrap();
        let w8t = Tensor::from_slice(&ctx, &w8, &[n, k]).unwrap();
        let xs = Tensor::from_slice(&ctx, &vec![0.01f32; m], &[m]).unwrap();
        let ws = Tensor::from_slice(&ctx, &vec![0.02f32; n], &[n]).unwrap();
        let outputs = [
            ("matmul", matmul(&ctx, &xt, &wt).unwrap()),
            ("w8a8", w8a8(&ctx, &x8t, &xs, &w8t, &ws).unwrap()),
            ("quant_matmul", quant_matmul(&ctx, &xt, &q).unwrap()),
            (
                "lut_matmul",
                lut_matmul(&ctx, &xt, &lw, LutPrecision::F32).unwrap(),
            ),
            ("shift_matmul", shift_matmul(&ctx, &xt, &sw).unwrap()),
            ("lmul_matmul", lmul_matmul(&ctx, &xt, &wt, 4).unwrap()),
        ];
        for (op, y) in outputs {
            let plain = y.to_vec::<f32>().unwrap();
            let got = add_bias(&ctx, y, &bt).unwrap().to_vec::<f32>().unwrap();
            for (i, (&g, &p)) in got.iter().zip(&plain).enumerate() {
                assert_eq!(g.to_bits(), (p + bias[i % n]).to_bits(), "{ctx:?} {op} {i}");
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    for ctx in all_contexts() {
        let y = || Tensor::from_slice(&ctx, &[0f32; 6], &[2, 3]).unwrap();
        let b3 = Tensor::from_slice(&ctx, &[0f32; 3], &[3]).unwrap();
        let b2 = Tensor::from_slice(&ctx, &[0f32; 2], &[2]).unwrap();
        let bi = Tensor::from_slice(&ctx, &[0i32; 3], &[3]).unwrap();
        let y1 = Tensor::from_slice(&ctx, &[0f32; 6], &[6]).unwrap();
        let yi = Tensor::from_slice(&ctx, &[0i32; 6], &[2, 3]).unwrap();
        assert!(add_bias(&ctx, y(), &b3).is_ok());
        assert!(add_bias(&ctx, y(), &b2).is_err());
        assert!(add_bias(&ctx, y(), &bi).is_err());
        assert!(add_bias(&ctx, y1, &b3).is_err());
        assert!(add_bias(&ctx, yi, &b3).is_err());
    }
}
