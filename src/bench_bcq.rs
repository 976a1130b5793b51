//! `lowbit bench --op bcq --bits Q`: binary-coded weights (Q sign planes, 3 APoT terms per block
//! of 8 columns × N/8 rows, ShiftAddLLM's Lat. mode) by query-and-add, beside the same weights
//! dequantised to f16 through the dense kernel, and the read bound over the plane bytes, in one
//! run.

use std::time::Duration;

use lowbit_kernels::bcq::BcqWeights;
use lowbit_kernels::DType;

use crate::bcq::BcqMatrix;
use crate::bench::{seeded_signed, side_by_side, BenchResult, Run};
use crate::bench_quant::{dequant_f16_dense, f16_weights};
use crate::context::Context;
use crate::error::Result;
use crate::measure::TimedOp;
use crate::ops::bcq::bcq_matmul_timed;
use crate::tensor::Tensor;

/// Times `[m, k]` f32 x by `[n, k]` BCQ weights of `planes` planes on `ctx`.
pub fn bench_bcq(
    ctx: &Context,
    planes: usize,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let block_n = if n.is_multiple_of(8) { n / 8 } else { n };
    let block_k = if k.is_multiple_of(8) { 8 } else { k };
    let bw = BcqWeights::quantize(
        &seeded_signed(n * k, 3),
        (planes, n, k),
        (block_k, block_n, 3),
    )?;
    let w = BcqMatrix::new(ctx, &bw)?;
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 4), &[m, k])?;
    let ours: TimedOp<'_> = Box::new(|t| bcq_matmul_timed(ctx, x.view(), &w, None, t).map(|_| ()));
    let wd = f16_weights(ctx, &bw.dequantize(), (n, k))?;
    let dense = dequant_f16_dense(ctx, &x, &wd)?;
    let (time, baselines, bound) = side_by_side(ctx, budget, ours, vec![dense], w.bytes())?;
    let run = Run {
        op: "bcq_matmul",
        variant: "f32 x, 256-entry sign tables per 8 inputs, APoT scales by ldexp".into(),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("bcq{planes}"),
        shape: (m, n, k),
        time,
        moved: (w.bytes() + 4 * m * k + 4 * m * n) as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
