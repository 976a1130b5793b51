//! `lowbit bench --op ternary [--w-format tq2_0|tq1_0] [--x-dtype i8|f32|f16]`: the ternary
//! matmul with BitNet's int8 activations (absmax per token, quantised on the host before the
//! timing; the default) or float ones on GGUF TQ2_0 or TQ1_0 weights kept in their packing,
//! beside the same weights dequantised to f16 through the dense kernel and the read bound over
//! the weight bytes, in one run.

use std::time::Duration;

use lowbit_kernels::formats::{quantize_row, QuantType};
use lowbit_kernels::ternary::{absmax_int8, TernaryWeights};
use lowbit_kernels::DType;

use crate::bench::{seeded_signed, side_by_side, tensor_of, BenchResult, Run};
use crate::bench_quant::{dequant_f16_dense, f16_weights};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::measure::TimedOp;
use crate::ops::ternary::ternary_matmul_timed;
use crate::tensor::Tensor;
use crate::ternary::TernaryMatrix;

/// Times x `[m, k]` by `[n, k]` ternary weights in `ty` (TQ2_0 or TQ1_0) on `ctx`, by the
/// GPU variant named `variant` (None: the default). `x_dtype` i8 is BitNet's absmax int8 with
/// a scale per token (quantised on the host before the timing); f32 or f16 x is added as is.
pub fn bench_ternary(
    ctx: &Context,
    ty: QuantType,
    x_dtype: DType,
    (m, n, k): (usize, usize, usize),
    variant: Option<&str>,
    budget: Duration,
) -> Result<BenchResult> {
    if !matches!(ty, QuantType::TQ2_0 | QuantType::TQ1_0) || !k.is_multiple_of(256) {
        return Err(Error::InvalidArgument(format!(
            "--op ternary takes --w-format tq2_0 or tq1_0 and K a multiple of 256, not {} and {k}",
            ty.name()
        )));
    }
    if !matches!(x_dtype, DType::I8 | DType::F32 | DType::F16) {
        return Err(Error::InvalidArgument(format!(
            "--op ternary takes x i8, f32 or f16, not {}",
            x_dtype.name()
        )));
    }
    let wf = seeded_signed(n * k, 3);
    let row = ty.row_bytes(k)?;
    let mut blocks = vec![0u8; n * row];
    for (src, dst) in wf.chunks(k).zip(blocks.chunks_mut(row)) {
        quantize_row(ty, src, dst)?;
    }
    let tw = match ty {
        QuantType::TQ2_0 => TernaryWeights::from_tq2_0(&blocks, n, k)?,
        _ => TernaryWeights::from_tq1_0(&blocks, n, k)?,
    };
    let w = TernaryMatrix::new(ctx, &tw)?;
    let xf = seeded_signed(m * k, 4);
    // x as the kernel takes it, its scales (int8 only), and the x of the dense baseline: the
    // int8 values dequantised to f32, or the same float x.
    let (x, xs, xd) = if x_dtype == DType::I8 {
        let (mut q, mut scales) = (Vec::with_capacity(m * k), Vec::with_capacity(m));
        for t in xf.chunks(k) {
            let (qt, s) = absmax_int8(t);
            q.extend(qt);
            scales.push(1.0 / s);
        }
        let xd: Vec<f32> = q
            .iter()
            .enumerate()
            .map(|(i, &v)| f32::from(v) * scales[i / k])
            .collect();
        let x = Tensor::from_slice(ctx, &q, &[m, k])?;
        let xs = Tensor::from_slice(ctx, &scales, &[m])?;
        (x, Some(xs), Some(Tensor::from_slice(ctx, &xd, &[m, k])?))
    } else {
        (tensor_of(ctx, x_dtype, &xf, &[m, k])?, None, None)
    };
    let choices = if ctx.is_gpu() {
        crate::ops::ternary::variants(&w, x_dtype, m)
    } else {
        Vec::new()
    };
    let chosen = match variant {
        None => choices.first().copied(),
        Some(name) => Some(
            choices
                .iter()
                .copied()
                .find(|v| v.name() == name)
                .ok_or_else(|| {
                    let names: Vec<String> = choices.iter().map(|v| v.name()).collect();
                    Error::InvalidArgument(format!(
                        "no ternary variant '{name}' here (choices: {})",
                        names.join(", ")
                    ))
                })?,
        ),
    };
    let ours: TimedOp<'_> = Box::new(|t| {
        ternary_matmul_timed(
            ctx,
            x.view(),
            xs.as_ref().map(|s| s.view()),
            &w,
            None,
            chosen,
            t,
        )
        .map(|_| ())
    });
    // The dense baseline multiplies the same activations (int8 ones dequantised) by the
    // dequantised weights.
    let xdt = xd.as_ref().unwrap_or(&x);
    let wd = f16_weights(ctx, &tw.dequantize(), (n, k))?;
    let dense = dequant_f16_dense(ctx, xdt, &wd)?;
    let (time, baselines, bound) = side_by_side(ctx, budget, ours, vec![dense], w.bytes())?;
    let kernel = match &*ctx.inner {
        Backend::Cpu(cfg) => lowbit_kernels::ternary::kernel_level(cfg.level).to_string(),
        Backend::Gpu(_) => chosen.map(|v| v.name()).unwrap_or_default(),
    };
    let run = Run {
        op: "ternary_matmul",
        variant: if x_dtype == DType::I8 {
            format!("{kernel}: int8 x, unit sums exact in i32")
        } else {
            format!("{kernel}: float x added, subtracted or skipped")
        },
        x_dtype: x_dtype.name().into(),
        w_dtype: ty.name().to_lowercase(),
        shape: (m, n, k),
        time,
        moved: (w.bytes() + m * k * x_dtype.size_bytes() + 4 * m * n) as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}
