//! `lowbit bench --op lmul --mbits M`: the L-Mul GEMV/GEMM (every product an integer add, f32
//! accumulation in a fixed order) beside the dense f32 kernel on the same x and W, and the read
//! bound over W's bytes, timed in alternation.

use std::time::Duration;

use lowbit_kernels::DType;

use crate::bench::{matmul_op, seeded_signed, side_by_side, BenchResult, Run};
use crate::context::Context;
use crate::error::Result;
use crate::measure::TimedOp;
use crate::ops::lmul::lmul_matmul_timed;
use crate::tensor::Tensor;

/// Times `[m, k]` x by `[n, k]` W (both f32) with L-Mul products emulating `mbits` mantissa
/// bits on `ctx`, in alternation with the dense kernel and the read bound.
pub fn bench_lmul(
    ctx: &Context,
    mbits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 1), &[m, k])?;
    let w = Tensor::from_slice(ctx, &seeded_signed(n * k, 2), &[n, k])?;
    let ours: TimedOp<'_> =
        Box::new(|t| lmul_matmul_timed(ctx, x.view(), w.view(), mbits, t).map(|_| ()));
    let (dense, dense_variant) = matmul_op(ctx, &x, &w, None)?;
    let dense = (format!("dense f32 multiply ({dense_variant})"), dense);
    let (time, baselines, bound) = side_by_side(ctx, budget, ours, vec![dense], n * k * 4)?;
    let run = Run {
        op: "lmul_matmul",
        variant: format!("lmul m={mbits} (one output per invocation, fixed add order)"),
        x_dtype: DType::F32.name().into(),
        w_dtype: DType::F32.name().into(),
        shape: (m, n, k),
        time,
        moved: (n * k * 4) as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
