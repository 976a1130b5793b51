//! `lowbit bench --op shift --bits B`: power-of-two weights (f32 x, one scale per channel, a
//! zero code) beside the dense f32 kernel on the same weights dequantised, and the read bound
//! over the code bytes, in one run.

use std::time::Duration;

use lowbit_kernels::shift::ShiftWeights;
use lowbit_kernels::DType;

use crate::bandwidth::read_bound;
use crate::bench::{Baseline, BenchResult};
use crate::context::{Backend, Context};
use crate::error::Result;
use crate::measure::{measure_gpu, measure_wall};
use crate::ops::shift::shift_matmul_timed;
use crate::shift::ShiftMatrix;
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

/// Times `[m, k]` f32 x by `[n, k]` `bits`-bit power-of-two weights on `ctx`.
pub fn bench_shift(
    ctx: &Context,
    bits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let sw = ShiftWeights::quantize(bits, true, (n, k, k), &seeded(n * k, 3))?;
    let w = ShiftMatrix::new(ctx, &sw)?;
    let x = Tensor::from_slice(ctx, &seeded(m * k, 4), &[m, k])?;
    let (secs, timing) = match &*ctx.inner {
        Backend::Gpu(g) => measure_gpu(g, budget, |t| {
            shift_matmul_timed(ctx, x.view(), &w, t).map(|_| ())
        })?,
        Backend::Cpu(_) => measure_wall(budget, || {
            shift_matmul_timed(ctx, x.view(), &w, None).map(|_| ())
        })?,
    };
    let wd = Tensor::from_slice(ctx, &sw.dequantize(), &[n, k])?;
    let (dense, _, dense_variant) = crate::bench::time_matmul(ctx, &x, &wd, None, budget)?;
    let w_bytes = n * k;
    let bound = read_bound(ctx, w_bytes.max(1 << 20), budget)?;
    let gbps = w_bytes as f64 / secs / 1e9;
    let info = ctx.info();
    Ok(BenchResult {
        op: "shift_matmul".into(),
        adapter: info.name,
        backend: info.backend,
        driver: info.driver,
        variant: "f32 x, exact ldexp per weight, one output per invocation".into(),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("shift{bits}"),
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
            name: format!("dequantised f32 + dense ({dense_variant})"),
            time_ms: dense * 1e3,
            speedup: dense / secs,
        }],
    })
}
