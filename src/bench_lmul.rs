//! `lowbit bench --op lmul --mbits M`: the L-Mul GEMV/GEMM (every product an integer add, f32
//! accumulation in a fixed order) beside the dense f32 kernel on the same x and W, and the read
//! bound over W's bytes, in one run.

use std::time::Duration;

use lowbit_kernels::DType;

use crate::bench::{seeded_signed, Baseline, BenchResult, Run};
use crate::context::Context;
use crate::error::Result;
use crate::measure::measure_op_runs;
use crate::ops::lmul::lmul_matmul_timed;
use crate::tensor::Tensor;

/// Times `[m, k]` x by `[n, k]` W (both f32) with L-Mul products emulating `mbits` mantissa
/// bits on `ctx`.
pub fn bench_lmul(
    ctx: &Context,
    mbits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 1), &[m, k])?;
    let w = Tensor::from_slice(ctx, &seeded_signed(n * k, 2), &[n, k])?;
    let time = measure_op_runs(ctx, budget, |t| {
        lmul_matmul_timed(ctx, x.view(), w.view(), mbits, t).map(|_| ())
    })?;
    let (dense, _, dense_variant) = crate::bench::time_matmul(ctx, &x, &w, None, budget)?;
    let run = Run {
        op: "lmul_matmul",
        variant: format!("lmul m={mbits} (one output per invocation, fixed add order)"),
        x_dtype: DType::F32.name().into(),
        w_dtype: DType::F32.name().into(),
        shape: (m, n, k),
        time,
        moved: (n * k * 4) as f64,
        w_bytes: n * k * 4,
        bound: None,
    };
    let dense = Baseline::new(
        format!("dense f32 multiply ({dense_variant})"),
        dense,
        time.median,
    );
    BenchResult::measured(ctx, run, budget, vec![dense])
}
