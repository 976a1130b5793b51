//! [`QuantMatrix`] from a safetensors checkpoint: AWQ and GPTQ int4 layers (converted on load
//! by `lowbit_kernels::formats::int4`), FP8 weights with their scale, and plain f32/f16/bf16
//! matrices. Every tensor's dtype and shape is checked against the others before conversion,
//! so a mismatched or mislabelled layer is an error naming the tensor, not a wrong answer.

use lowbit_kernels::formats::fp8::Fp8;
use lowbit_kernels::formats::int4::{from_awq, from_gptq};
use lowbit_kernels::formats::QuantType;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::quant::QuantMatrix;
use crate::safetensors::{Dtype, SafetensorsFile};

/// The packing convention of an int4 layer's `qweight`, `qzeros` and `scales`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int4Checkpoint {
    /// AutoAWQ GEMM: `qweight` `[K, N/8]` packed along N in AWQ's nibble order.
    Awq,
    /// AutoGPTQ's "gptq" format (v1): `qweight` `[K/8, N]`, zero points stored minus one,
    /// optional `g_idx` (act-order).
    Gptq,
    /// GPTQModel's "gptq_v2": as [`Int4Checkpoint::Gptq`] with zero points stored as they are.
    GptqV2,
}

fn err(msg: String) -> Error {
    Error::Safetensors(msg)
}

/// The two dims of a 2-D tensor, or an error naming it.
fn dims2(file: &SafetensorsFile, name: &str) -> Result<(usize, usize)> {
    match file.info(name)?.shape[..] {
        [a, b] => Ok((a, b)),
        ref s => Err(err(format!(
            "tensor {name:?} has shape {s:?}, expected 2 dims"
        ))),
    }
}

impl QuantMatrix {
    /// The int4 layer `layer` of `file` (tensors `{layer}.qweight`, `{layer}.qzeros`,
    /// `{layer}.scales` and, for GPTQ, an optional `{layer}.g_idx`), in the convention
    /// `kind`. N, K and the group size (32, 64 or 128) come from the shapes.
    pub fn from_safetensors_int4(
        ctx: &Context,
        file: &SafetensorsFile,
        layer: &str,
        kind: Int4Checkpoint,
    ) -> Result<Self> {
        let t = |s: &str| format!("{layer}.{s}");
        let (qw, sc, qz) = (t("qweight"), t("scales"), t("qzeros"));
        let (groups, n) = dims2(file, &sc)?;
        let (r, c) = dims2(file, &qw)?;
        let k = match kind {
            Int4Checkpoint::Awq if c * 8 == n => r,
            Int4Checkpoint::Gptq | Int4Checkpoint::GptqV2 if c == n => r * 8,
            _ => {
                let want = match kind {
                    Int4Checkpoint::Awq => "[K, N/8] (AWQ)",
                    _ => "[K/8, N] (GPTQ)",
                };
                return Err(err(format!(
                    "{qw:?} is [{r}, {c}] with N = {n} (from {sc:?}): not {want}"
                )));
            }
        };
        if groups == 0 || !k.is_multiple_of(groups) {
            return Err(err(format!(
                "{sc:?} has {groups} groups, which do not divide K = {k}"
            )));
        }
        let group = k / groups;
        if dims2(file, &qz)? != (groups, n / 8) {
            return Err(err(format!(
                "{qz:?} is {:?}, expected [{groups}, {}]",
                file.info(&qz)?.shape,
                n / 8
            )));
        }
        let (qweight, qzeros) = (file.read_i32(&qw)?, file.read_i32(&qz)?);
        let scales = file.read_f16(&sc)?;
        let w = match kind {
            Int4Checkpoint::Awq => from_awq(&qweight, &qzeros, &scales, n, k, group)?,
            _ => {
                let gi = t("g_idx");
                let g_idx = if file.contains(&gi) {
                    Some(file.read_i32(&gi)?)
                } else {
                    None
                };
                let v1 = kind == Int4Checkpoint::Gptq;
                from_gptq(
                    &qweight,
                    &qzeros,
                    &scales,
                    g_idx.as_deref(),
                    n,
                    k,
                    group,
                    v1,
                )?
            }
        };
        Self::from_int4(ctx, &w)
    }

    /// The weight matrix `name` (`[N, K]`) of `file`: F32, F16 or BF16 as they are, or FP8
    /// (E4M3, E5M2) with its scale `{name}_scale` — one per tensor (`[]`, `[1]`) or one per
    /// row (`[N]`, `[N, 1]`), f32/f16/bf16 — or a scale of 1 when there is none. Block-wise
    /// scales (`{name}_scale_inv`, `[N/128, K/128]`) are refused: lowbit's FP8 layout has one
    /// scale per row.
    pub fn from_safetensors(ctx: &Context, file: &SafetensorsFile, name: &str) -> Result<Self> {
        let (n, k) = dims2(file, name)?;
        let (info, bytes) = file.bytes(name)?;
        let fp8 = match info.dtype {
            Dtype::F32 => return Self::from_bytes(ctx, QuantType::F32, n, k, bytes),
            Dtype::F16 => return Self::from_bytes(ctx, QuantType::F16, n, k, bytes),
            Dtype::BF16 => return Self::from_bytes(ctx, QuantType::BF16, n, k, bytes),
            Dtype::F8_E4M3 => Fp8::E4M3,
            Dtype::F8_E5M2 => Fp8::E5M2,
            d => {
                return Err(Error::Unsupported(format!(
                    "tensor {name:?} is {d:?}: lowbit reads F32, F16, BF16, F8_E4M3 and F8_E5M2 \
                     matrices (int4 layers through from_safetensors_int4)"
                )))
            }
        };
        let scale_name = format!("{name}_scale");
        let scales = if file.contains(&scale_name) {
            let info = file.info(&scale_name)?;
            let per_row = matches!(info.shape[..], [r] | [r, 1] if r == n);
            let per_tensor = info.elements() == 1 && info.shape.len() <= 2;
            if !per_row && !per_tensor {
                return Err(err(format!(
                    "{scale_name:?} is {:?}: expected one scale per tensor or per row (N = {n})",
                    info.shape
                )));
            }
            file.read_f32(&scale_name)?
        } else if file.contains(&format!("{name}_scale_inv")) {
            return Err(Error::Unsupported(format!(
                "{name:?} has block-wise scales ({name}_scale_inv); lowbit's FP8 has one scale \
                 per row or per tensor"
            )));
        } else {
            vec![1.0]
        };
        Self::from_fp8(ctx, fp8, bytes, &scales, n, k)
    }
}
