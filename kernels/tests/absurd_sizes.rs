//! Sizes whose products wrap, zero dimensions and wrong block lengths given to the public
//! constructors and kernels: each is an `Err` (or, for the validation-only Bessel methods, a
//! NaN), never a panic, a wrapped length accepted, a huge allocation or an endless loop.

use lowbit_kernels::bcq::BcqWeights;
use lowbit_kernels::bessel::{log_ikv_with, Method};
use lowbit_kernels::formats::fp8::{fp8_blocks, quantize_fp8, Fp8};
use lowbit_kernels::formats::int4::{from_awq, from_gptq};
use lowbit_kernels::formats::{dequantize_block, QuantType};
use lowbit_kernels::lut::LutWeights;
use lowbit_kernels::quant_matmul::{offset_parts, quant_matmul, QuantPath};
use lowbit_kernels::shift::{pow2_neg, ShiftWeights};
use lowbit_kernels::ternary::{TernaryWeights, TritPacking};
use lowbit_kernels::SimdLevel;

/// N and K whose product wraps to a small number (2^32 · 2^32 = 2^64 ≡ 0).
const WRAP: (usize, usize) = (1 << 32, 1 << 32);

#[test]
fn row_bytes_that_overflow_are_refused() {
    assert!(QuantType::F32.row_bytes(usize::MAX / 2).is_err());
    assert!(QuantType::Q4_0.row_bytes(usize::MAX / 32 * 32).is_ok());
    assert!(QuantType::Q8_0.row_bytes(usize::MAX / 32 * 32).is_err());
}

#[test]
fn int4_and_fp8_constructors_check_their_products() {
    // Every expected length wraps to 0 here: k/8·n = 2^66, groups·n = 2^64.
    let (n, k) = (1 << 32, 1 << 37);
    assert!(from_gptq(&[], &[], &[], None, n, k, 32, false).is_err());
    assert!(from_awq(&[], &[], &[], n, k, 32).is_err());
    let (n, k) = WRAP;
    assert!(from_gptq(&[], &[], &[], None, 0, 0, 32, false).is_err());
    assert!(fp8_blocks(&[], &[1.0], n, k).is_err());
    assert!(quantize_fp8(Fp8::E4M3, &[], n, k).is_err());
    assert!(quantize_fp8(Fp8::E4M3, &[1.0; 64], 1, 0).is_err());
    // Too few weights for the shape used to give fewer rows, silently.
    assert!(quantize_fp8(Fp8::E5M2, &[1.0; 63], 2, 32).is_err());
    assert!(quantize_fp8(Fp8::E5M2, &[1.0; 64], 2, 32).is_ok());
}

#[test]
fn weight_constructors_check_before_allocating() {
    let (n, k) = WRAP;
    assert!(LutWeights::from_codes(2, n, k, k, &[], &[], None).is_err());
    assert!(lowbit_kernels::lut::convert::from_ternary(1 << 60, 16, &[], 1.0).is_err());
    assert!(BcqWeights::quantize(&[], (2, n, k), (k, 1, 2)).is_err());
    assert!(BcqWeights::quantize(&[0.0; 64], (9, 8, 8), (8, 1, 2)).is_err());
    let t = TernaryWeights::from_trits(TritPacking::Bits2, (2, 1 << 63, 2, 2), &[], &[]);
    assert!(t.is_err());
    assert!(TernaryWeights::from_i2_s(&[], 1.0, 0, 128).is_err());
    assert!(TernaryWeights::from_i2_s(&[], 1.0, 1 << 62, 128).is_err());
    assert!(TernaryWeights::from_tq2_0(&[], 0, 256).is_err());
    assert!(TernaryWeights::absmean(TritPacking::Base3, &[], n, k).is_err());
    assert!(ShiftWeights::quantize(0, false, (1, 4, 4), &[1.0; 4]).is_err());
    assert!(ShiftWeights::quantize(9, false, (1, 4, 4), &[1.0; 4]).is_err());
    assert!(ShiftWeights::quantize(4, false, (n, k, 1), &[]).is_err());
    assert!(ShiftWeights::from_codes(4, false, (n, k, 1), &[], &[]).is_err());
}

#[test]
fn quantized_matmul_refuses_k_zero_and_wrapped_lengths() {
    let mut y = [0f32; 64];
    for (m, n) in [(1, 1), (40, 1)] {
        let r = quant_matmul(
            QuantPath::Exact,
            SimdLevel::Scalar,
            1,
            QuantType::Q4_0,
            &[],
            &[],
            m,
            n,
            0,
            &mut y[..m * n],
        );
        assert!(r.is_err(), "m = {m}");
    }
    let (n, k) = WRAP;
    let r = quant_matmul(
        QuantPath::Exact,
        SimdLevel::Scalar,
        1,
        QuantType::Q8_0,
        &[],
        &[],
        1,
        n,
        k,
        &mut [],
    );
    assert!(r.is_err());
    assert!(offset_parts(QuantType::Q4_0, &[], 0).is_err());
}

#[test]
fn one_block_decodes_only_whole_blocks() {
    let mut out = [0f32; 32];
    assert!(dequantize_block(QuantType::Q4_0, &[0; 18], &mut out).is_ok());
    assert!(dequantize_block(QuantType::Q4_0, &[0; 17], &mut out).is_err());
    assert!(dequantize_block(QuantType::Q4_0, &[0; 18], &mut out[..31]).is_err());
}

#[test]
fn series_methods_far_outside_their_region_give_nan_at_once() {
    for method in [Method::SeriesTemme, Method::SeriesSteed] {
        let (i, k) = log_ikv_with(method, 1e17, 3.0);
        assert!(i.is_nan() && k.is_nan());
        // Inside their reach they still answer.
        assert!(log_ikv_with(method, 10.0, 3.0).0.is_finite());
    }
}

#[test]
fn powers_of_two_past_the_normal_range_are_exact() {
    assert_eq!(pow2_neg(63), 2f32.powi(-63));
    assert_eq!(pow2_neg(126), f32::MIN_POSITIVE);
    assert_eq!(pow2_neg(149), f32::from_bits(1));
    assert_eq!(pow2_neg(200), 0.0);
}
