//! [`BcqMatrix`]: binary-coded weights (`lowbit_kernels::bcq`) on a context: the sign planes
//! and the packed APoT scale terms in storage buffers on a GPU, the host copy on the CPU backend.

use std::sync::Arc;

use lowbit_kernels::bcq::{ApotTerm, BcqWeights};

use crate::context::{Backend, Context};
use crate::error::Result;

pub(crate) enum BcqData {
    Host(Arc<BcqWeights>),
    Gpu {
        bits: wgpu::Buffer,
        scales: wgpu::Buffer,
    },
}

/// BCQ weights `[N, K]` uploaded to a context.
pub struct BcqMatrix {
    pub(crate) ctx: Context,
    pub(crate) planes: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    pub(crate) block_k: usize,
    pub(crate) block_n: usize,
    pub(crate) terms: usize,
    pub(crate) data: BcqData,
}

impl std::fmt::Debug for BcqMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BcqMatrix({} planes of [{}, {}], scales per {}×{} with {} terms)",
            self.planes, self.n, self.k, self.block_k, self.block_n, self.terms
        )
    }
}

impl BcqMatrix {
    /// Uploads `w` to `ctx`.
    pub fn new(ctx: &Context, w: &BcqWeights) -> Result<Self> {
        let data = match &*ctx.inner {
            Backend::Cpu(_) => BcqData::Host(Arc::new(w.clone())),
            Backend::Gpu(g) => {
                let packed: Vec<u32> = w.scales().chunks(w.terms()).map(ApotTerm::packed).collect();
                BcqData::Gpu {
                    bits: g.upload(bytemuck::cast_slice(w.bits()), "bcq bits")?,
                    scales: g.upload(bytemuck::cast_slice(&packed), "bcq scales")?,
                }
            }
        };
        Ok(BcqMatrix {
            ctx: ctx.clone(),
            planes: w.planes(),
            n: w.n(),
            k: w.k(),
            block_k: w.block_k(),
            block_n: w.block_n(),
            terms: w.terms(),
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

    /// Bytes the weights occupy: the sign planes and one u32 per scale (its APoT terms).
    pub fn bytes(&self) -> usize {
        let scales = (self.k / self.block_k) * self.planes * (self.n / self.block_n);
        self.n * self.planes * self.k.div_ceil(32) * 4 + 4 * scales
    }
}
