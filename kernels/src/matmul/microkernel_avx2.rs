//! The AVX2+FMA GEMM micro-kernel: a 6×16 tile of y in twelve ymm accumulators.

use std::arch::x86_64::*;

/// Rows of x per tile.
pub(super) const MR: usize = 6;
/// Rows of W (columns of y) per tile: two ymm vectors.
pub(super) const NR: usize = 16;

/// The 6×16 AVX2 micro-kernel: `C[r][c] (+)= Σ_kk a[kk·6 + r] · b[kk·16 + c]` for the 6×16
/// tile at `c` with row stride `ldc` (added to C when `add`, else stored). Twelve named
/// accumulators (an array may be kept in memory), two B vectors and one broadcast A value: 15 of
/// the 16 ymm registers.
///
/// # Safety
/// AVX2 and FMA present; `a` and `b` hold kc·6 and kc·16 floats; `c` points at 6 rows of 16
/// writable floats `ldc` apart that no other thread touches.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel_6x16(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    debug_assert!(a.len() >= kc * 6 && b.len() >= kc * 16);
    // SAFETY: the caller's contract above.
    unsafe {
        let (ap, bp) = (a.as_ptr(), b.as_ptr());
        let z = _mm256_setzero_ps();
        let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21) = (z, z, z, z, z, z);
        let (mut c30, mut c31, mut c40, mut c41, mut c50, mut c51) = (z, z, z, z, z, z);
        // One K step: two B vectors, six broadcasts, twelve FMAs.
        macro_rules! step {
            ($kk:expr) => {
                let b0 = _mm256_loadu_ps(bp.add($kk * 16));
                let b1 = _mm256_loadu_ps(bp.add($kk * 16 + 8));
                macro_rules! row {
                    ($r:expr, $x0:ident, $x1:ident) => {
                        let av = _mm256_broadcast_ss(&*ap.add($kk * 6 + $r));
                        $x0 = _mm256_fmadd_ps(av, b0, $x0);
                        $x1 = _mm256_fmadd_ps(av, b1, $x1);
                    };
                }
                row!(0, c00, c01);
                row!(1, c10, c11);
                row!(2, c20, c21);
                row!(3, c30, c31);
                row!(4, c40, c41);
                row!(5, c50, c51);
            };
        }
        // Unrolled by two: less loop overhead per FMA.
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
        ]
        .into_iter()
        .enumerate()
        {
            let row = c.add(r * ldc);
            if add {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row.add(8)));
            }
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row.add(8), v1);
        }
    }
}
