//! [`LutMatrix`]: b-bit weights in the bit-plane layout of `lowbit_kernels::lut` on a context
//! (three storage buffers on a GPU — planes, scales, zero points — or the host copy on the
//! CPU backend), for the T-MAC table kernels and their dequantise-in-register baseline
//! (`ops::lut`).

use std::sync::Arc;

use lowbit_kernels::lut::LutWeights;

use crate::context::{Backend, Context};
use crate::error::Result;

/// Where the weights are.
pub(crate) enum LutData {
    Host(Arc<LutWeights>),
    Gpu {
        planes: wgpu::Buffer,
        scales: wgpu::Buffer,
        zeros: wgpu::Buffer,
    },
}

/// LUT weights `[N, K]` uploaded to a context.
pub struct LutMatrix {
    pub(crate) ctx: Context,
    pub(crate) bits: u32,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) group: usize,
    pub(crate) span: usize,
    pub(crate) pairs: usize,
    pub(crate) groups: usize,
    pub(crate) data: LutData,
}

impl std::fmt::Debug for LutMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LutMatrix({} bits, group {}, [{}, {}])",
            self.bits, self.group, self.n, self.k
        )
    }
}

impl LutMatrix {
    /// Uploads `w` to `ctx`.
    pub fn new(ctx: &Context, w: &LutWeights) -> Result<Self> {
        let data = match &*ctx.inner {
            Backend::Cpu(_) => LutData::Host(Arc::new(w.clone())),
            Backend::Gpu(g) => LutData::Gpu {
                planes: g.upload(w.planes(), "LUT planes")?,
                scales: g.upload(bytemuck::cast_slice(w.scales()), "LUT scales")?,
                zeros: g.upload(bytemuck::cast_slice(w.zeros()), "LUT zeros")?,
            },
        };
        Ok(LutMatrix {
            ctx: ctx.clone(),
            bits: w.bits(),
            n: w.n(),
            k: w.k(),
            group: w.group(),
            span: w.span(),
            pairs: w.pairs(),
            groups: w.groups(),
            data,
        })
    }

    /// Bits per weight.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Rows (output features).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns (input features).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Bytes the kernels read for W: planes, scales and zero points.
    pub fn bytes(&self) -> u64 {
        let tiles = self.n.div_ceil(lowbit_kernels::lut::TILE_ROWS) as u64;
        let rows = tiles * lowbit_kernels::lut::TILE_ROWS as u64;
        tiles * self.pairs as u64 * u64::from(self.bits) * 32 + rows * self.groups as u64 * 8
    }

    /// The context it lives on.
    pub fn context(&self) -> &Context {
        &self.ctx
    }
}
