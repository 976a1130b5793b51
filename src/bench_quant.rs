//! `lowbit bench --op matmul --w-format FMT`: the fused quantized matmul, side by side in one
//! run with the dense f16 kernel on the same weights dequantised (the "dequantise to f16, then
//! the dense kernel" route) and the read bound over the compressed weight bytes.

use std::time::Duration;

use lowbit_kernels::formats::QuantType;

use crate::bench::{matmul_op, side_by_side, tensor_of, BenchResult, Run};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::measure::TimedOp;
use crate::ops::quant::default_path;
use crate::ops::quant::gpu as quant_gpu;
use crate::ops::{int8_kernel, quant_matmul_with, QuantPath};
use crate::quant::{QuantData, QuantMatrix};
use crate::tensor::Tensor;
use lowbit_kernels::formats::fp8::{fp8_blocks, quantize_fp8, Fp8};
use lowbit_kernels::DType;

/// Seeded bytes: every bit pattern is a valid block; the f16 scale fields of random bytes
/// are good for timing where the format has no quantiser (see `bench_weights`).
fn seeded_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
        .collect()
}

/// `[n, k]` weights in `ty` for timing: where the format has a quantiser, 64 rows of seeded
/// values quantised by it and repeated, so scales are what real weights have (random f16
/// scale bytes are 6% subnormal, infinite or NaN — slow, mispredicted paths real weights
/// never take); else seeded bytes, with MXFP4's exponents kept near 2⁰ (random E8M0 bytes go
/// down to 2⁻¹²⁷, whose subnormal products would time the CPU's microcode assists); FP8 from
/// its converter.
pub fn bench_weights(ty: QuantType, n: usize, k: usize) -> Result<Vec<u8>> {
    let row = ty.row_bytes(k)?;
    let mut bytes = seeded_bytes(n * row, 3);
    let rows = n.min(64);
    let vals = || -> Vec<f32> {
        let v = seeded_bytes(rows * k, 5);
        v.iter().map(|&b| f32::from(b) / 127.5 - 1.0).collect()
    };
    let fp8 = match ty {
        QuantType::F8E4M3 => Some(Fp8::E4M3),
        QuantType::F8E5M2 => Some(Fp8::E5M2),
        _ => None,
    };
    if ty.has_quantizer() {
        let vals = vals();
        for (r, out) in bytes.chunks_mut(row).take(rows).enumerate() {
            lowbit_kernels::formats::quantize_row(ty, &vals[r * k..(r + 1) * k], out)?;
        }
    } else if let Some(kind) = fp8 {
        let (codes, scales) = quantize_fp8(kind, &vals(), rows, k)?;
        bytes[..rows * row].copy_from_slice(&fp8_blocks(&codes, &scales, rows, k)?);
    } else {
        if ty == QuantType::MXFP4 {
            for b in bytes.chunks_mut(ty.block_bytes()) {
                b[0] = 120 + b[0] % 16;
            }
        }
        return Ok(bytes);
    }
    // The converted rows, repeated over all n.
    for j in rows..n {
        bytes.copy_within((j % rows) * row..(j % rows + 1) * row, j * row);
    }
    Ok(bytes)
}

/// Times `quant_matmul` of `[m, k]` x (`x_dtype`: f32 or f16) by `[n, k]` weights in `ty` on
/// `ctx`.
pub fn bench_quant_matmul(
    ctx: &Context,
    ty: QuantType,
    x_dtype: DType,
    (m, n, k): (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    if !matches!(x_dtype, DType::F32 | DType::F16) {
        return Err(Error::InvalidArgument(format!(
            "a quantized matmul takes x f32 or f16, not {}",
            x_dtype.name()
        )));
    }
    let row = ty.row_bytes(k)?;
    let bytes = bench_weights(ty, n, k)?;
    let w = QuantMatrix::from_bytes(ctx, ty, n, k, &bytes)?;
    let xs: Vec<f32> = seeded_bytes(m * k, 4)
        .iter()
        .map(|&b| f32::from(b) / 255.0 - 0.5)
        .collect();
    let x = tensor_of(ctx, x_dtype, &xs, &[m, k])?;
    // Dequantised on the host: a GPU dequantise of large W would need one binding past the
    // device's limit (the baseline only needs the values).
    let mut deq = vec![0f32; n * k];
    for (src, dst) in bytes.chunks(row).zip(deq.chunks_mut(k)) {
        lowbit_kernels::formats::dequantize_row(ty, src, dst)?;
    }
    let wd = f16_weights(ctx, &deq, (n, k))?;
    let path_op = |path: QuantPath| quant_op(ctx, &x, &w, path);
    // The int8 path only where it has a kernel for the format (else it is the exact one).
    let path = match default_path(ctx) {
        QuantPath::Int8 if !int8_kernel(ctx, ty, m) => QuantPath::Exact,
        p => p,
    };
    // The other path side by side: the exact decoders when the default is the int8 one, the
    // int8 kernel (where there is one) when the default is exact — how a GPU's default gets
    // measured.
    let mut others = Vec::new();
    let other = match path {
        QuantPath::Int8 => Some((QuantPath::Exact, "exact decoders")),
        QuantPath::Exact if int8_kernel(ctx, ty, m) => Some((QuantPath::Int8, "int8 path")),
        QuantPath::Exact => None,
    };
    if let Some((p, name)) = other {
        others.push((name.to_string(), path_op(p)?));
    }
    others.push(dequant_f16_dense(ctx, &x, &wd)?);
    let (time, baselines, bound) = side_by_side(ctx, budget, path_op(path)?, others, n * row)?;
    let run = Run {
        op: "quant_matmul",
        variant: match path {
            QuantPath::Int8 => "int8 (x quantised per 32)",
            QuantPath::Exact => "exact decoders",
        }
        .into(),
        x_dtype: x_dtype.name().into(),
        w_dtype: ty.name().into(),
        shape: (m, n, k),
        time,
        moved: (n * row) as f64,
        bound,
    };
    BenchResult::measured(ctx, run, budget, baselines)
}

/// `quant_matmul` of `x` by `w` along `path` as an op to time: on a GPU the kernel alone (into
/// a y allocated once) where `w` is a block format, else the whole call.
pub(crate) fn quant_op<'a>(
    ctx: &'a Context,
    x: &'a Tensor,
    w: &'a QuantMatrix,
    path: QuantPath,
) -> Result<TimedOp<'a>> {
    Ok(match (&*ctx.inner, &w.data) {
        (Backend::Gpu(g), QuantData::Gpu(buf))
            if !matches!(w.ty, QuantType::F32 | QuantType::F16 | QuantType::BF16) =>
        {
            let (m, n) = (x.shape()[0], w.n);
            let y = g.alloc((m * n * 4) as u64, "y")?;
            let xv = x.view();
            Box::new(move |t| quant_gpu(g, &xv, w, buf, &y, path, None, t))
        }
        _ => Box::new(move |_| quant_matmul_with(ctx, x, w, path).map(|_| ())),
    })
}

/// The weights of the baseline "dequantise to f16, then the dense kernel": `deq` (`[n, k]`,
/// dequantised once, not timed) as an f16 tensor.
pub(crate) fn f16_weights(ctx: &Context, deq: &[f32], (n, k): (usize, usize)) -> Result<Tensor> {
    tensor_of(ctx, DType::F16, deq, &[n, k])
}

/// That baseline as a named op to time: the dense kernel on `x` and the f16 weights `wd`.
pub(crate) fn dequant_f16_dense<'a>(
    ctx: &'a Context,
    x: &'a Tensor,
    wd: &'a Tensor,
) -> Result<(String, TimedOp<'a>)> {
    let (op, variant) = matmul_op(ctx, x, wd, None)?;
    Ok((format!("dequant-f16 + dense ({variant})"), op))
}
