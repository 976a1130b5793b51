//! `lowbit bench --op lut-matmul --bits B`: the LUT matmul, side by side in one run: the
//! kernel dispatch picks, the other kernels over the same planes (table-int8, table-f32,
//! dequant), the fused GGUF kernel of this project at the same shape (Q2_K for 1–2 bits, Q3_K
//! for 3, Q4_0 for 4: the dequantise-based route an engine would otherwise run), the dense f16
//! kernel on the dequantised weights, and the read bound over the planes' bytes.

use std::time::Duration;

use lowbit_kernels::formats::QuantType;
use lowbit_kernels::lut::{LutPrecision, LutWeights};
use lowbit_kernels::DType;

use crate::bandwidth::read_bound;
use crate::bench::{Baseline, BenchResult};
use crate::bench_quant::bench_weights;
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::lut::LutMatrix;
use crate::measure::{measure_gpu, measure_wall, Timing};
use crate::ops::lut::{lut_kernel, lut_matmul_timed, LutKernel};
use crate::ops::quant::{default_path, gpu as quant_gpu};
use crate::ops::quant_matmul_with;
use crate::quant::{QuantData, QuantMatrix};
use crate::tensor::Tensor;

/// Seeded values in [−1, 1).
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

/// The GGUF format the LUT weights of `bits` are compared with.
fn gguf_peer(bits: u32) -> QuantType {
    match bits {
        1 | 2 => QuantType::Q2_K,
        3 => QuantType::Q3_K,
        _ => QuantType::Q4_0,
    }
}

/// Times `[m, k]` f32 x by `[n, k]` `bits`-bit weights (scale and zero point per 128, or per
/// row where K is not a multiple of 128) on `ctx`.
pub fn bench_lut_matmul(
    ctx: &Context,
    bits: u32,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    let group = if k.is_multiple_of(128) { 128 } else { k };
    let lw = LutWeights::quantize(bits, n, k, group, &seeded(n * k, 3))?;
    let w = LutMatrix::new(ctx, &lw)?;
    let x = Tensor::from_slice(ctx, &seeded(m * k, 4), &[m, k])?;
    let time = |kernel: LutKernel| -> Result<(f64, Timing)> {
        match &*ctx.inner {
            Backend::Gpu(g) => measure_gpu(g, budget, |t| {
                lut_matmul_timed(ctx, x.view(), &w, kernel, t).map(|_| ())
            }),
            Backend::Cpu(_) => measure_wall(budget, || {
                lut_matmul_timed(ctx, x.view(), &w, kernel, None).map(|_| ())
            }),
        }
    };
    let (picked, why) = lut_kernel(ctx, LutPrecision::Int8);
    let (secs, timing) = time(picked)?;
    let mut baselines = Vec::new();
    let mut push = |name: String, t: f64| {
        baselines.push(Baseline {
            name,
            time_ms: t * 1e3,
            speedup: t / secs,
        })
    };
    for kernel in [
        LutKernel::Table(LutPrecision::Int8),
        LutKernel::Table(LutPrecision::F32),
        LutKernel::Dequant,
    ] {
        if kernel != picked {
            push(format!("lut {}", kernel.name()), time(kernel)?.0);
        }
    }
    // The project's fused GGUF kernel at the same shape (its default path).
    let ty = gguf_peer(bits);
    if k.is_multiple_of(ty.block_elems()) {
        let q = QuantMatrix::from_bytes(ctx, ty, n, k, &bench_weights(ty, n, k)?)?;
        let path = default_path(ctx);
        let (t, _) = match (&*ctx.inner, &q.data) {
            (Backend::Gpu(g), QuantData::Gpu(buf)) => {
                let y = g.alloc((m * n * 4) as u64, "y")?;
                let xv = x.view();
                measure_gpu(g, budget, |t| quant_gpu(g, &xv, &q, buf, &y, path, t))?
            }
            _ => measure_wall(budget, || quant_matmul_with(ctx, &x, &q, path).map(|_| ()))?,
        };
        push(format!("{} fused kernel (same shape)", ty.name()), t);
    }
    // The same weights dequantised once (not timed) to f16, then the dense kernel.
    let wh: Vec<half::f16> = lw
        .dequantize()
        .iter()
        .map(|&v| half::f16::from_f32(v))
        .collect();
    let wd = Tensor::from_slice(ctx, &wh, &[n, k])?;
    let (dense, _, dense_variant) = crate::bench::time_matmul(ctx, &x, &wd, None, budget)?;
    push(format!("dequant-f16 + dense ({dense_variant})"), dense);
    let w_bytes = usize::try_from(w.bytes()).map_err(|_| Error::Shape("W too large".into()))?;
    let bound = read_bound(ctx, w_bytes.max(1 << 20), budget)?;
    let gbps = w_bytes as f64 / secs / 1e9;
    let info = ctx.info();
    Ok(BenchResult {
        op: "lut_matmul".into(),
        adapter: info.name,
        backend: info.backend,
        driver: info.driver,
        variant: format!("lut {} ({why})", picked.name()),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("lut{bits}-g{group}"),
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
        baselines,
    })
}
