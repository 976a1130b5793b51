//! `lowbit bench --op lmul --mbits M`: the L-Mul GEMV/GEMM (every product an integer add, f32
//! accumulation in a fixed order) beside the dense f32 kernel on the same x and W, and the read
//! bound over W's bytes, in one run.

use std::time::Duration;

use lowbit_kernels::DType;

use crate::bandwidth::read_bound;
use crate::bench::{Baseline, BenchResult};
use crate::context::{Backend, Context};
use crate::error::Result;
use crate::measure::{measure_gpu, measure_wall};
use crate::ops::lmul::lmul_matmul_timed;
use crate::tensor::Tensor;

fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Times `[m, k]` x by `[n, k]` W (both f32) with L-Mul products emulating `mbits` mantissa
/// bits on `ctx`.
pub fn bench_lmul(
    ctx: &Context,
    mbits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let x = Tensor::from_slice(ctx, &seeded(m * k, 1), &[m, k])?;
    let w = Tensor::from_slice(ctx, &seeded(n * k, 2), &[n, k])?;
    let (secs, timing) = match &*ctx.inner {
        Backend::Gpu(g) => measure_gpu(g, budget, |t| {
            lmul_matmul_timed(ctx, x.view(), w.view(), mbits, t).map(|_| ())
        })?,
        Backend::Cpu(_) => measure_wall(budget, || {
            lmul_matmul_timed(ctx, x.view(), w.view(), mbits, None).map(|_| ())
        })?,
    };
    let (dense, _, dense_variant) = crate::bench::time_matmul(ctx, &x, &w, None, budget)?;
    let w_bytes = n * k * 4;
    let bound = read_bound(ctx, w_bytes.max(1 << 20), budget)?;
    let gbps = w_bytes as f64 / secs / 1e9;
    let info = ctx.info();
    Ok(BenchResult {
        op: "lmul_matmul".into(),
        adapter: info.name,
        backend: info.backend,
        driver: info.driver,
        variant: format!("lmul m={mbits} (one output per invocation, fixed add order)"),
        x_dtype: DType::F32.name().into(),
        w_dtype: DType::F32.name().into(),
        m,
        n,
        k,
        timing: timing.name().into(),
        time_ms: secs * 1e3,
        gflops: 2.0 * (m * n * k) as f64 / secs / 1e9,
        gbps,
        bound_gbps: bound.gbps(),
        fraction_of_bound: gbps / bound.gbps(),
        bound_timing: bound.timing.name().into(),
        bound_layout: bound.layout.clone(),
        baselines: vec![Baseline {
            name: format!("dense f32 multiply ({dense_variant})"),
            time_ms: dense * 1e3,
            speedup: dense / secs,
        }],
    })
}
