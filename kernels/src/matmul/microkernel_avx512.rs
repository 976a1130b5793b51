//! The AVX-512 GEMM micro-kernel: an 8×32 tile of y in sixteen zmm accumulators.
//!
//! Per K step: two 16-float B vectors, eight broadcast A values and sixteen FMAs. Sixteen
//! independent accumulators cover the FMA latency (4 cycles × 2 ports) with room to spare,
//! and 19 of the 32 zmm registers are used, so nothing spills.

use std::arch::x86_64::*;

/// Rows of x per tile.
pub(super) const MR: usize = 8;
/// Rows of W (columns of y) per tile: two zmm vectors.
pub(super) const NR: usize = 32;

/// `C[r][c] (+)= Σ_kk a[kk·8 + r] · b[kk·32 + c]` for the 8×32 tile at `c` with row stride
/// `ldc` (added to C when `add`, else stored).
///
/// # Safety
/// AVX-512F present; `a` and `b` hold kc·8 and kc·32 floats; `c` points at 8 rows of 32
/// writable floats `ldc` apart that no other thread touches.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
pub(super) unsafe fn kernel_8x32(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    debug_assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    // SAFETY: the caller's contract above: every A read is below kc·8, every B read below
    // kc·32, every C access inside the 8×32 tile.
    unsafe {
        let (ap, bp) = (a.as_ptr(), b.as_ptr());
        let z = _mm512_setzero_ps();
        // Named accumulators, not an array: an array of vectors may be kept in memory.
        let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21, mut c30, mut c31) =
            (z, z, z, z, z, z, z, z);
        let (mut c40, mut c41, mut c50, mut c51, mut c60, mut c61, mut c70, mut c71) =
            (z, z, z, z, z, z, z, z);
        macro_rules! step {
            ($kk:expr) => {
                let b0 = _mm512_loadu_ps(bp.add($kk * NR));
                let b1 = _mm512_loadu_ps(bp.add($kk * NR + 16));
                macro_rules! row {
                    ($r:expr, $x0:ident, $x1:ident) => {
                        let av = _mm512_set1_ps(*ap.add($kk * MR + $r));
                        $x0 = _mm512_fmadd_ps(av, b0, $x0);
                        $x1 = _mm512_fmadd_ps(av, b1, $x1);
                    };
                }
                row!(0, c00, c01);
                row!(1, c10, c11);
                row!(2, c20, c21);
                row!(3, c30, c31);
                row!(4, c40, c41);
                row!(5, c50, c51);
                row!(6, c60, c61);
                row!(7, c70, c71);
            };
        }
        let mut kk = 0;
        while kk + 2 <= kc {
            step!(kk);
            step!(kk + 1);
            kk += 2;
        }
        if kk < kc {
            step!(kk);
        }
        for (r, (mut v0, mut v1)) in [
            (c00, c01),
            (c10, c11),
            (c20, c21),
            (c30, c31),
            (c40, c41),
            (c50, c51),
            (c60, c61),
            (c70, c71),
        ]
        .into_iter()
        .enumerate()
        {
            let row = c.add(r * ldc);
            if add {
                v0 = _mm512_add_ps(v0, _mm512_loadu_ps(row));
                v1 = _mm512_add_ps(v1, _mm512_loadu_ps(row.add(16)));
            }
            _mm512_storeu_ps(row, v0);
            _mm512_storeu_ps(row.add(16), v1);
        }
    }
}
