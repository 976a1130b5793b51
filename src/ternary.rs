//! [`TernaryMatrix`]: ternary weights (`lowbit_kernels::ternary`) on a context: the packed trits
//! and the scales in storage buffers on a GPU, the host copy on the CPU backend.

use std::sync::Arc;

use lowbit_kernels::ternary::{TernaryWeights, TritPacking, UNIT};

use crate::context::{Backend, Context};
use crate::error::Result;

pub(crate) enum TernaryData {
    Host(Arc<TernaryWeights>),
    Gpu {
        codes: wgpu::Buffer,
        scales: wgpu::Buffer,
    },
}

/// Ternary weights `[N, K]` (one or two trit planes) uploaded to a context.
pub struct TernaryMatrix {
    pub(crate) ctx: Context,
    pub(crate) packing: TritPacking,
    pub(crate) planes: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    /// Units of 128 positions per row.
    pub(crate) units: usize,
    /// Scale groups per row.
    pub(crate) groups: usize,
    /// Bytes of one plane's row.
    pub(crate) row_bytes: usize,
    pub(crate) data: TernaryData,
}

impl std::fmt::Debug for TernaryMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TernaryMatrix({}, {} plane(s) of [{}, {}], {} scale group(s) a row)",
            self.packing.name(),
            self.planes,
            self.n,
            self.k,
            self.groups
        )
    }
}

impl TernaryMatrix {
    /// Uploads `w` to `ctx`.
    pub fn new(ctx: &Context, w: &TernaryWeights) -> Result<Self> {
        let data = match &*ctx.inner {
            Backend::Cpu(_) => TernaryData::Host(Arc::new(w.clone())),
            Backend::Gpu(g) => TernaryData::Gpu {
                codes: g.upload(w.codes(), "ternary codes")?,
                scales: g.upload(bytemuck::cast_slice(w.scales()), "ternary scales")?,
            },
        };
        Ok(TernaryMatrix {
            ctx: ctx.clone(),
            packing: w.packing(),
            planes: w.planes(),
            n: w.n(),
            k: w.k(),
            units: w.padded_k() / UNIT,
            groups: w.groups(),
            row_bytes: w.row_bytes(),
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

    /// Trit planes.
    pub fn planes(&self) -> usize {
        self.planes
    }

    /// How the trits are packed.
    pub fn packing(&self) -> TritPacking {
        self.packing
    }

    /// Bytes the weights occupy (trits and scales).
    pub fn bytes(&self) -> usize {
        self.planes * self.n * (self.row_bytes + 4 * self.groups)
    }
}
