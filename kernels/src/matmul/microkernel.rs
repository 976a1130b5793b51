//! The GEMM register tile: MR rows of x by NR rows of W, over a packed K block.

use crate::SimdLevel;

/// Rows of x per micro-tile.
pub(crate) const MR: usize = 6;
/// Rows of W (columns of y) per micro-tile.
pub(crate) const NR: usize = 16;

/// `C (+)= A_panel · B_panelᵀ` for packed panels (`a[kk·MR + r]`, `b[kk·NR + c]`) on a full
/// MR×NR tile of C at `c` with row stride `ldc`; `add` accumulates, else overwrites.
///
/// # Safety
/// `c` points at MR rows of NR writable floats `ldc` apart that no other thread touches, and the
/// panels hold kc·MR and kc·NR floats.
pub(crate) unsafe fn run(
    level: SimdLevel,
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        // SAFETY: level comes from simd::clamp, so AVX2 and FMA are present; the rest is this
        // function's own contract.
        unsafe { super::x86::kernel_6x16(kc, a, b, c, ldc, add) };
        return;
    }
    let _ = level;
    let mut tile = [0f32; MR * NR];
    scalar(kc, a, b, &mut tile);
    for r in 0..MR {
        for j in 0..NR {
            // SAFETY: the contract: MR rows of NR floats at c, ldc apart.
            unsafe {
                let p = c.add(r * ldc + j);
                *p = if add {
                    *p + tile[r * NR + j]
                } else {
                    tile[r * NR + j]
                };
            }
        }
    }
}

/// `tile = A_panel · B_panelᵀ` in portable code.
pub(crate) fn scalar(kc: usize, a: &[f32], b: &[f32], tile: &mut [f32; MR * NR]) {
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
