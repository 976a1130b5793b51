//! `lowbit bench --op lut-matmul --bits B`: the LUT matmul, side by side in one run: the
//! kernel dispatch picks, the other kernels over the same planes (table-int8, table-f32,
//! dequant), the fused GGUF kernel of this project at the same shape (Q2_K for 1–2 bits, Q3_K
//! for 3, Q4_0 for 4: the dequantise-based route an engine would otherwise run), the dense f16
//! kernel on the dequantised weights, and the read bound over the planes' bytes.

use std::time::Duration;

use lowbit_kernels::formats::QuantType;
use lowbit_kernels::lut::{LutPrecision, LutWeights};
use lowbit_kernels::DType;

use crate::bench::{seeded_signed, Baseline, BenchResult, Run};
use crate::bench_quant::{bench_weights, dequant_f16_dense};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::lut::LutMatrix;
use crate::measure::{measure_gpu, measure_op_runs, measure_wall, Measured};
use crate::ops::lut::{lut_kernel, lut_matmul_timed, LutKernel};
use crate::ops::quant::{default_path, gpu as quant_gpu};
use crate::ops::quant_matmul_with;
use crate::quant::{QuantData, QuantMatrix};
use crate::tensor::Tensor;

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
    let lw = LutWeights::quantize(bits, n, k, group, &seeded_signed(n * k, 3))?;
    let w = LutMatrix::new(ctx, &lw)?;
    let x = Tensor::from_slice(ctx, &seeded_signed(m * k, 4), &[m, k])?;
    let time = |kernel: LutKernel| -> Result<Measured> {
        measure_op_runs(ctx, budget, |t| {
            lut_matmul_timed(ctx, x.view(), &w, kernel, t).map(|_| ())
        })
    };
    let (picked, why) = lut_kernel(ctx, LutPrecision::Int8);
    let picked_time = time(picked)?;
    let secs = picked_time.median;
    let mut baselines = Vec::new();
    for kernel in [
        LutKernel::Table(LutPrecision::Int8),
        LutKernel::Table(LutPrecision::F32),
        LutKernel::Dequant,
    ] {
        if kernel != picked {
            let t = time(kernel)?.median;
            baselines.push(Baseline::new(format!("lut {}", kernel.name()), t, secs));
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
                measure_gpu(g, budget, |t| quant_gpu(g, &xv, &q, buf, &y, path, None, t))?
            }
            _ => measure_wall(budget, || quant_matmul_with(ctx, &x, &q, path).map(|_| ()))?,
        };
        baselines.push(Baseline::new(
            format!("{} fused kernel (same shape)", ty.name()),
            t,
            secs,
        ));
    }
    baselines.push(dequant_f16_dense(
        ctx,
        &x,
        &lw.dequantize(),
        (n, k),
        secs,
        budget,
    )?);
    let w_bytes = usize::try_from(w.bytes()).map_err(|_| Error::Shape("W too large".into()))?;
    let run = Run {
        op: "lut_matmul",
        variant: format!("lut {} ({why})", picked.name()),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("lut{bits}-g{group}"),
        shape: (m, n, k),
        time: picked_time,
        moved: w_bytes as f64,
        w_bytes,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
