//! `lowbit bench --op shift --bits B`: power-of-two weights (f32 x, one scale per channel, a
//! zero code) beside the dense f32 kernel on the same weights dequantised, and the read bound
//! over the code bytes, in one run.

use std::time::Duration;

use lowbit_kernels::shift::ShiftWeights;
use lowbit_kernels::DType;

use crate::bench::{seeded_signed, Baseline, BenchResult, Run};
use crate::context::Context;
use crate::error::Result;
use crate::measure::measure_op_runs;
use crate::ops::shift::shift_matmul_timed;
use crate::shift::ShiftMatrix;
use crate::tensor::Tensor;

/// Times `[m, k]` f32 x by `[n, k]` `bits`-bit power-of-two weights on `ctx`.
pub fn bench_shift(
    ctx: &Context,
    bits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let sw = ShiftWeights::quantize(bits, true, (n, k, k), &seeded_signed(n * k, 3))?;
    let w = ShiftMatrix::new(ctx, &sw)?;
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 4), &[m, k])?;
    let time = measure_op_runs(ctx, budget, |t| {
        shift_matmul_timed(ctx, x.view(), &w, t).map(|_| ())
    })?;
    let wd = Tensor::from_slice(ctx, &sw.dequantize(), &[n, k])?;
    let (dense, _, dense_variant) = crate::bench::time_matmul(ctx, &x, &wd, None, budget)?;
    let run = Run {
        op: "shift_matmul",
        variant: "f32 x, exact ldexp per weight, one output per invocation".into(),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("shift{bits}"),
        shape: (m, n, k),
        time,
        moved: (n * k) as f64,
        w_bytes: n * k,
        bound: None,
    };
    let dense = Baseline::new(
        format!("dequantised f32 + dense ({dense_variant})"),
        dense,
        time.median,
    );
    BenchResult::measured(ctx, run, budget, vec![dense])
}
