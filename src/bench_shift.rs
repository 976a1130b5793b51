//! `lowbit bench --op shift --bits B`: power-of-two weights (f32 x, one scale per channel, a
//! zero code) beside the dense f32 kernel on the same weights dequantised, and the read bound
//! over the code bytes, timed in alternation.

use std::time::Duration;

use lowbit_kernels::shift::ShiftWeights;
use lowbit_kernels::DType;

use crate::bench::{matmul_op, seeded_signed, side_by_side, BenchResult, Run};
use crate::context::Context;
use crate::error::Result;
use crate::measure::TimedOp;
use crate::ops::shift::shift_matmul_timed;
use crate::shift::ShiftMatrix;
use crate::tensor::Tensor;

/// Times `[m, k]` f32 x by `[n, k]` `bits`-bit power-of-two weights on `ctx`, in alternation
/// with the dense kernel and the read bound.
pub fn bench_shift(
    ctx: &Context,
    bits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let sw = ShiftWeights::quantize(bits, true, (n, k, k), &seeded_signed(n * k, 3))?;
    let w = ShiftMatrix::new(ctx, &sw)?;
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 4), &[m, k])?;
    let ours: TimedOp<'_> = Box::new(|t| shift_matmul_timed(ctx, x.view(), &w, t).map(|_| ()));
    let wd = Tensor::from_slice(ctx, &sw.dequantize(), &[n, k])?;
    let (dense, dense_variant) = matmul_op(ctx, &x, &wd, None)?;
    let dense = (format!("dequantised f32 + dense ({dense_variant})"), dense);
    let (time, baselines, bound) = side_by_side(ctx, budget, ours, vec![dense], n * k)?;
    let run = Run {
        op: "shift_matmul",
        variant: "f32 x, exact ldexp per weight, one output per invocation".into(),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("shift{bits}"),
        shape: (m, n, k),
        time,
        moved: (n * k) as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
