//! [`QuantMatrix`]: a weight matrix `[N, K]` in a GGUF block format, kept in its own bytes on
//! a context (a storage buffer on a GPU, host memory on the CPU backend). The matmul ops
//! decode it block by block inside the kernels; no dequantised copy is ever made.

use std::sync::Arc;

use lowbit_kernels::formats::fp8::{fp8_blocks, Fp8};
use lowbit_kernels::formats::int4::Int4Weights;
use lowbit_kernels::formats::{quantize_row, QuantType};
use lowbit_kernels::quant_matmul::WeightFacts;

use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gguf::GgufFile;

/// Where the bytes are.
pub(crate) enum QuantData {
    Host(Arc<Vec<u8>>),
    Gpu(wgpu::Buffer),
}

/// A quantized weight matrix: `n` rows of `k` elements, each row `k / block` blocks of `ty`.
pub struct QuantMatrix {
    pub(crate) ctx: Context,
    pub(crate) ty: QuantType,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) data: QuantData,
    /// Act-order int4 weights: stored column `i` is input feature `perm[i]`.
    pub(crate) perm: Option<Permutation>,
    /// What the CPU kernels may assume of the bytes (found once, here).
    pub(crate) facts: WeightFacts,
}

/// An input-feature permutation, on the host and (GPU contexts) in a buffer.
pub(crate) struct Permutation {
    pub host: Arc<Vec<u32>>,
    pub gpu: Option<wgpu::Buffer>,
}

impl std::fmt::Debug for QuantMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "QuantMatrix({} [{}, {}])",
            self.ty.name(),
            self.n,
            self.k
        )
    }
}

impl QuantMatrix {
    /// Wraps `bytes` (exactly `n · row_bytes(k)` of them, as GGUF stores a `[N, K]` tensor).
    pub fn from_bytes(
        ctx: &Context,
        ty: QuantType,
        n: usize,
        k: usize,
        bytes: &[u8],
    ) -> Result<Self> {
        if n == 0 || k == 0 {
            return Err(Error::Shape(format!(
                "{}: n = {n}, k = {k} must be ≥ 1",
                ty.name()
            )));
        }
        let row = ty.row_bytes(k)?;
        let want = n
            .checked_mul(row)
            .ok_or_else(|| Error::Shape(format!("{}: [{n}, {k}] overflows", ty.name())))?;
        if bytes.len() != want {
            return Err(Error::Shape(format!(
                "{} [{n}, {k}] takes {want} bytes, got {}",
                ty.name(),
                bytes.len()
            )));
        }
        let (data, facts) = match &*ctx.inner {
            Backend::Cpu(_) => (
                QuantData::Host(Arc::new(bytes.to_vec())),
                WeightFacts::of(ty, bytes),
            ),
            Backend::Gpu(g) => (
                QuantData::Gpu(g.upload(bytes, ty.name())?),
                WeightFacts::default(),
            ),
        };
        Ok(QuantMatrix {
            ctx: ctx.clone(),
            ty,
            n,
            k,
            data,
            perm: None,
            facts,
        })
    }

    /// FP8 weights: `[n, k]` codes with one f32 scale per row (`scales.len() == n`) or per
    /// tensor (`1`), `kind` E4M3 or E5M2.
    pub fn from_fp8(
        ctx: &Context,
        kind: Fp8,
        codes: &[u8],
        scales: &[f32],
        n: usize,
        k: usize,
    ) -> Result<Self> {
        let bytes = fp8_blocks(codes, scales, n, k)?;
        let ty = match kind {
            Fp8::E4M3 => QuantType::F8E4M3,
            Fp8::E5M2 => QuantType::F8E5M2,
        };
        Self::from_bytes(ctx, ty, n, k, &bytes)
    }

    /// AWQ or GPTQ weights converted by `lowbit_kernels::formats::int4` (`from_awq`,
    /// `from_gptq`), act-order permutation included.
    pub fn from_int4(ctx: &Context, w: &Int4Weights) -> Result<Self> {
        // The converters make I4G blocks; another type (a hand-built `Int4Weights`) would not
        // carry the act-order permutation on every backend.
        if !matches!(
            w.ty,
            QuantType::I4G32 | QuantType::I4G64 | QuantType::I4G128
        ) {
            return Err(Error::InvalidArgument(format!(
                "int4 weights are I4G32, I4G64 or I4G128 blocks, not {}",
                w.ty.name()
            )));
        }
        let mut m = Self::from_bytes(ctx, w.ty, w.n, w.k, &w.bytes)?;
        if let Some(p) = &w.perm {
            let valid = p.len() == w.k && {
                let mut seen = vec![false; w.k];
                p.iter().all(|&i| {
                    let i = i as usize;
                    i < w.k && !std::mem::replace(&mut seen[i], true)
                })
            };
            if !valid {
                return Err(Error::Shape(format!(
                    "int4 permutation is not a permutation of 0..{}",
                    w.k
                )));
            }
            let gpu = match &*ctx.inner {
                Backend::Gpu(g) => Some(g.upload(bytemuck::cast_slice(p), "perm")?),
                Backend::Cpu(_) => None,
            };
            m.perm = Some(Permutation {
                host: Arc::new(p.clone()),
                gpu,
            });
        }
        Ok(m)
    }

    /// The tensor `name` of a GGUF file, uploaded in its own format. Its GGUF dims are
    /// `[K, N]` (`ne0 = K` contiguous), or `[K]` for a single row.
    pub fn from_gguf(ctx: &Context, file: &GgufFile, name: &str) -> Result<Self> {
        let (info, bytes) = file.tensor_with_data(name)?;
        if info.dims.len() > 2 {
            return Err(Error::Shape(format!(
                "'{name}' has dims {:?}; a weight matrix has at most 2",
                info.dims
            )));
        }
        let (n, k) = info.rows_cols();
        Self::from_bytes(ctx, info.ty, n, k, bytes)
    }

    /// Quantizes `w` (`[n, k]` row-major f32) with `ty`'s reference quantiser.
    pub fn quantize(ctx: &Context, ty: QuantType, n: usize, k: usize, w: &[f32]) -> Result<Self> {
        if w.len() != crate::tensor::element_count(&[n, k])? {
            return Err(Error::Shape(format!(
                "quantize: {} values for [{n}, {k}]",
                w.len()
            )));
        }
        let row = ty.row_bytes(k)?;
        let mut bytes = vec![0u8; n * row];
        for r in 0..n {
            quantize_row(
                ty,
                &w[r * k..(r + 1) * k],
                &mut bytes[r * row..(r + 1) * row],
            )?;
        }
        Self::from_bytes(ctx, ty, n, k, &bytes)
    }

    /// The block format.
    pub fn quant_type(&self) -> QuantType {
        self.ty
    }

    /// Rows (output features).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Row length (input features).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.ty.row_bytes(self.k).expect("checked at construction")
    }

    /// The context the matrix lives on.
    pub fn context(&self) -> &Context {
        &self.ctx
    }
}
