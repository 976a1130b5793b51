//! The GEMM register tile: MR rows of x by NR rows of W over a packed K block, chosen per SIMD
//! level (the packing layout follows the tile, so the GEMM driver asks [`Kernel`] for both).

use crate::SimdLevel;

/// The largest MR·NR of any kernel: the size of the edge-tile scratch buffer.
pub(crate) const MAX_TILE: usize = 8 * 32;

/// Tile of the portable kernel (it auto-vectorises to whatever the baseline target has).
const SCALAR_MR: usize = 4;
const SCALAR_NR: usize = 16;

/// A micro-kernel: its tile shape and the level it runs at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kernel {
    /// Rows of x per tile (the x panel width).
    pub mr: usize,
    /// Rows of W per tile (the W panel width).
    pub nr: usize,
    /// Only the x86 kernels are level-specific; elsewhere the portable one runs.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    level: SimdLevel,
}

impl Kernel {
    /// The kernel for an already clamped (machine-supported) level.
    pub(crate) fn for_level(level: SimdLevel) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use super::{microkernel_avx2 as k2, microkernel_avx512 as k5};
            if level >= SimdLevel::Avx512 {
                return Kernel {
                    mr: k5::MR,
                    nr: k5::NR,
                    level,
                };
            }
            if level >= SimdLevel::Avx2 {
                return Kernel {
                    mr: k2::MR,
                    nr: k2::NR,
                    level,
                };
            }
        }
        let _ = level;
        Kernel {
            mr: SCALAR_MR,
            nr: SCALAR_NR,
            level: SimdLevel::Scalar,
        }
    }

    /// `C (+)= A_panel · B_panelᵀ` for packed panels (`a[kk·mr + r]`, `b[kk·nr + c]`) on a
    /// full mr×nr tile of C at `c` with row stride `ldc`; `add` accumulates, else overwrites.
    ///
    /// # Safety
    /// `c` points at mr rows of nr writable floats `ldc` apart that no other thread touches,
    /// and the panels hold kc·mr and kc·nr floats.
    #[inline]
    pub(crate) unsafe fn run(
        &self,
        kc: usize,
        a: &[f32],
        b: &[f32],
        c: *mut f32,
        ldc: usize,
        add: bool,
    ) {
        assert!(a.len() >= kc * self.mr && b.len() >= kc * self.nr);
        #[cfg(target_arch = "x86_64")]
        {
            if self.level >= SimdLevel::Avx512 {
                // SAFETY: `level` came from simd::clamp, so AVX-512F/BW/VL and FMA are present;
                // panel sizes asserted above; C is this function's own contract.
                unsafe { super::microkernel_avx512::kernel_8x32(kc, a, b, c, ldc, add) };
                return;
            }
            if self.level >= SimdLevel::Avx2 {
                // SAFETY: as above, with AVX2 and FMA present.
                unsafe { super::microkernel_avx2::kernel_6x16(kc, a, b, c, ldc, add) };
                return;
            }
        }
        let mut tile = [[0f32; SCALAR_NR]; SCALAR_MR];
        scalar(kc, a, b, &mut tile);
        for (r, tr) in tile.iter().enumerate() {
            for (j, v) in tr.iter().enumerate() {
                // SAFETY: the contract: mr rows of nr floats at c, ldc apart.
                unsafe {
                    let p = c.add(r * ldc + j);
                    *p = if add { *p + v } else { *v };
                }
            }
        }
    }
}

/// `tile = A_panel · B_panelᵀ` in portable code (fixed-size rows so it vectorises).
fn scalar(kc: usize, a: &[f32], b: &[f32], tile: &mut [[f32; SCALAR_NR]; SCALAR_MR]) {
    for kk in 0..kc {
        let bk: &[f32; SCALAR_NR] = b[kk * SCALAR_NR..kk * SCALAR_NR + SCALAR_NR]
            .try_into()
            .expect("NR floats");
        for (r, cr) in tile.iter_mut().enumerate() {
            let av = a[kk * SCALAR_MR + r];
            for (cc, bv) in cr.iter_mut().zip(bk) {
                *cc += av * bv;
            }
        }
    }
}
