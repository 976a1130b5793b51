//! Shapes whose byte sizes wrap, zero dimensions and mismatched descriptions given to the
//! public constructors and ops on every backend: each is an `Err`, never a panic, a wrapped
//! size accepted, a huge allocation or an endless loop.

mod common;

use common::all_contexts;
use lowbit::kernels::formats::int4::Int4Weights;
use lowbit::kernels::formats::QuantType;
use lowbit::kernels::ternary::{TernaryWeights, TritPacking};
use lowbit::ops::ternary::variants;
use lowbit::ops::ternary_matmul_with;
use lowbit::{DType, QuantMatrix, Tensor, TernaryMatrix};

#[test]
fn tensors_whose_bytes_would_wrap_are_refused() {
    for ctx in all_contexts() {
        // 2^62 f32 elements: the count fits usize, its bytes do not.
        assert!(
            Tensor::zeros(&ctx, DType::F32, &[1 << 62]).is_err(),
            "{ctx:?}"
        );
        assert!(Tensor::zeros(&ctx, DType::F32, &[1 << 31, 1 << 31]).is_err());
        // 2^64 elements wrap to 0.
        assert!(Tensor::zeros(&ctx, DType::I8, &[1 << 32, 1 << 32]).is_err());
    }
}

#[test]
fn quantized_weights_with_absurd_shapes_are_refused() {
    for ctx in all_contexts() {
        // A row of 2^62 f32 is 2^64 bytes: it used to wrap to an empty matrix.
        assert!(QuantMatrix::from_bytes(&ctx, QuantType::F32, 1, 1 << 62, &[]).is_err());
        // K = 0 with a huge N used to loop N times.
        assert!(QuantMatrix::quantize(&ctx, QuantType::Q8_0, usize::MAX, 0, &[]).is_err());
        // Int4 weights are I4G blocks; an F16 one with a permutation would be dense on the
        // GPU (permutation ignored) and permuted on the CPU.
        let w = Int4Weights {
            ty: QuantType::F16,
            n: 1,
            k: 2,
            bytes: vec![0; 4],
            perm: Some(vec![1, 0]),
        };
        assert!(QuantMatrix::from_int4(&ctx, &w).is_err());
    }
}

#[test]
fn a_ternary_variant_that_does_not_fit_the_shape_is_refused() {
    // K = 264: int8 x rows do not start on 16 bytes, so the x-in-vec4 variants are not made
    // for it; one asked for by hand (it would read later tokens' x misaligned) is an error.
    let (n, k, m) = (3, 264, 2);
    let w =
        TernaryWeights::from_trits(TritPacking::Bits2, (1, n, k, k), &vec![1; n * k], &[1.0; 3])
            .unwrap();
    for ctx in common::gpu_contexts() {
        let wm = TernaryMatrix::new(&ctx, &w).unwrap();
        let x = Tensor::from_slice(&ctx, &vec![1i8; m * k], &[m, k]).unwrap();
        let xs = Tensor::from_slice(&ctx, &[1f32; 2], &[m]).unwrap();
        let fits = variants(&wm, DType::I8, m);
        assert!(fits.iter().all(|v| !v.x_vec4));
        let mut v = fits[0];
        v.x_vec4 = true;
        let r = ternary_matmul_with(&ctx, x.view(), Some(xs.view()), &wm, None, Some(v));
        assert!(r.is_err(), "{ctx:?}");
        // The variants it does make run.
        let y = ternary_matmul_with(&ctx, x.view(), Some(xs.view()), &wm, None, Some(fits[0]))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(y.iter().all(|&v| v == k as f32));
    }
}
