//! [`ShiftMatrix`]: power-of-two weights (`lowbit_kernels::shift`) on a context: codes (one byte
//! each) and scales in storage buffers on a GPU, the host copy on the CPU backend.

use std::sync::Arc;

use lowbit_kernels::shift::ShiftWeights;

use crate::context::{Backend, Context};
use crate::error::Result;

pub(crate) enum ShiftData {
    Host(Arc<ShiftWeights>),
    Gpu {
        codes: wgpu::Buffer,
        scales: wgpu::Buffer,
    },
}

/// Power-of-two weights `[N, K]` uploaded to a context.
pub struct ShiftMatrix {
    pub(crate) ctx: Context,
    pub(crate) bits: u32,
    pub(crate) zero_code: bool,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) group: usize,
    pub(crate) data: ShiftData,
}

impl std::fmt::Debug for ShiftMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ShiftMatrix({} bits, [{}, {}])",
            self.bits, self.n, self.k
        )
    }
}

impl ShiftMatrix {
    /// Uploads `w` to `ctx`.
    pub fn new(ctx: &Context, w: &ShiftWeights) -> Result<Self> {
        let data = match &*ctx.inner {
            Backend::Cpu(_) => ShiftData::Host(Arc::new(w.clone())),
            Backend::Gpu(g) => ShiftData::Gpu {
                codes: g.upload(w.codes(), "shift codes")?,
                scales: g.upload(bytemuck::cast_slice(w.scales()), "shift scales")?,
            },
        };
        Ok(ShiftMatrix {
            ctx: ctx.clone(),
            bits: w.bits(),
            zero_code: w.zero_code(),
            n: w.n(),
            k: w.k(),
            group: w.group(),
            data,
        })
    }

    /// Rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns.
    pub fn k(&self) -> usize {
        self.k
    }
}
