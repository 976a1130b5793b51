//! `lowbit bench --op lut-matmul --bits B`: the LUT matmul, side by side in one run: the
//! kernel dispatch picks, the other kernels over the same planes (table-int8, table-f32,
//! dequant), the fused GGUF kernel of this project at the same shape (Q2_K for 1–2 bits, Q3_K
//! for 3, Q4_0 for 4: the dequantise-based route an engine would otherwise run), the dense f16
//! kernel on the dequantised weights, and the read bound over the planes' bytes.

use std::time::Duration;

use lowbit_kernels::formats::QuantType;
use lowbit_kernels::lut::{LutPrecision, LutWeights};
use lowbit_kernels::DType;

use crate::bench::{seeded_signed, side_by_side, BenchResult, Run};
use crate::bench_quant::{bench_weights, dequant_f16_dense, f16_weights, quant_op};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::lut::LutMatrix;
use crate::measure::TimedOp;
use crate::ops::lut::{lut_kernel, lut_matmul_timed, LutKernel};
use crate::ops::quant::default_path;
use crate::quant::QuantMatrix;
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
    // The fused GGUF kernel of the same bits and the dense f16 route on the same weights.
    let ty = gguf_peer(bits);
    let peer = if k.is_multiple_of(ty.block_elems()) {
        Some(QuantMatrix::from_bytes(
            ctx,
            ty,
            n,
            k,
            &bench_weights(ty, n, k)?,
        )?)
    } else {
        None
    };
    let wd = f16_weights(ctx, &lw.dequantize(), (n, k))?;
    let (xr, wr) = (&x, &w);
    let lut_op = |kernel: LutKernel| -> TimedOp<'_> {
        Box::new(move |t| lut_matmul_timed(ctx, xr.view(), wr, kernel, t).map(|_| ()))
    };
    let (picked, why) = lut_kernel(ctx, LutPrecision::Int8);
    let mut others = Vec::new();
    for kernel in [
        LutKernel::Table(LutPrecision::Int8),
        LutKernel::Table(LutPrecision::F32),
        LutKernel::Dequant,
    ] {
        if kernel != picked {
            others.push((format!("lut {}", kernel.name()), lut_op(kernel)));
        }
    }
    // The project's fused GGUF kernel at the same shape (its default path).
    if let Some(q) = &peer {
        let op = quant_op(ctx, &x, q, default_path(ctx))?;
        others.push((format!("{} fused kernel (same shape)", ty.name()), op));
    }
    others.push(dequant_f16_dense(ctx, &x, &wd)?);
    let w_bytes = usize::try_from(w.bytes()).map_err(|_| Error::Shape("W too large".into()))?;
    let (picked_time, baselines, bound) =
        side_by_side(ctx, budget, lut_op(picked), others, w_bytes)?;
    let run = Run {
        op: "lut_matmul",
        variant: format!("lut {} ({why})", picked.name()),
        x_dtype: DType::F32.name().into(),
        w_dtype: format!("lut{bits}-g{group}"),
        shape: (m, n, k),
        time: picked_time,
        moved: w_bytes as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
