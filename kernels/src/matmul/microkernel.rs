//! The GEMM register tile: MR rows of x by NR rows of W, over a packed K block.

use crate::SimdLevel;

/// Rows of x per micro-tile.
pub(crate) const MR: usize = 6;
/// Rows of W (columns of y) per micro-tile.
pub(crate) const NR: usize = 16;

/// `tile = A_panel · B_panelᵀ` for packed panels (`a[kk·MR + r]`, `b[kk·NR + c]`).
pub(crate) fn run(level: SimdLevel, kc: usize, a: &[f32], b: &[f32], tile: &mut [f32; MR * NR]) {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        // SAFETY: level comes from simd::clamp, so AVX2 and FMA are present; the panels hold
        // kc·MR and kc·NR floats (the packer sizes them).
        unsafe { super::x86::kernel_6x16(kc, a, b, tile) };
        return;
    }
    let _ = level;
    scalar(kc, a, b, tile);
}

fn scalar(kc: usize, a: &[f32], b: &[f32], tile: &mut [f32; MR * NR]) {
    let mut c = [[0f32; NR]; MR];
    for kk in 0..kc {
        let bk = &b[kk * NR..kk * NR + NR];
        for (r, cr) in c.iter_mut().enumerate() {
            let av = a[kk * MR + r];
            for (cc, bv) in cr.iter_mut().zip(bk) {
                *cc += av * bv;
            }
        }
    }
    for (r, cr) in c.iter().enumerate() {
        tile[r * NR..r * NR + NR].copy_from_slice(cr);
    }
}
