//! GEMV (M ≤ 4): every W row is read once and dotted with all M rows of x. Threads take
//! contiguous ranges of W rows, so each streams its own part of W.

use super::par_ranges;
use crate::{MatRef, SimdLevel};

/// Shares a raw output pointer between threads that write disjoint elements.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr(pub *mut f32);
// SAFETY: every thread writes a disjoint set of indices (its own rows of W), checked by the
// callers' range arithmetic; the pointer outlives the scope of par_ranges.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The pointer (a method, so closures capture the Sync wrapper, not the raw field).
    pub(crate) fn get(self) -> *mut f32 {
        self.0
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv(
    level: SimdLevel,
    threads: usize,
    x: &[f32],
    w: MatRef,
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) {
    let out = OutPtr(y.as_mut_ptr());
    par_ranges(n, threads, 1, |start, end| {
        let mut acc = [0f32; 4];
        for j in start..end {
            dot_rows(level, x, w, j * k, m, k, &mut acc);
            for (i, a) in acc.iter().enumerate().take(m) {
                // SAFETY: i < m and j < n, so i*n + j < m*n = y.len(); rows j are this range's own.
                unsafe { *out.get().add(i * n + j) = *a };
            }
        }
    });
}

/// `acc[i] = Σ_l x[i·k + l] · w[w0 + l]` for the m ≤ 4 rows of x.
fn dot_rows(
    level: SimdLevel,
    x: &[f32],
    w: MatRef,
    w0: usize,
    m: usize,
    k: usize,
    acc: &mut [f32; 4],
) {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        super::x86::dot_rows(level, x, w, w0, m, k, acc);
        return;
    }
    #[cfg(target_arch = "aarch64")]
    if level == SimdLevel::Neon {
        if let MatRef::F32(wd) = w {
            super::neon_dot_rows(x, &wd[w0..w0 + k], m, k, acc);
            return;
        }
    }
    let _ = level;
    scalar_dot_rows(x, w, w0, m, k, acc);
}

/// Portable version: eight partial sums per row so the compiler can vectorise it.
pub(crate) fn scalar_dot_rows(
    x: &[f32],
    w: MatRef,
    w0: usize,
    m: usize,
    k: usize,
    acc: &mut [f32; 4],
) {
    let mut wrow = [0f32; 64];
    let mut part = [[0f32; 8]; 4];
    let mut l = 0;
    while l < k {
        let len = 64.min(k - l);
        w.copy_f32(w0 + l, &mut wrow[..len]);
        for i in 0..m {
            let xr = &x[i * k + l..i * k + l + len];
            for (t, (a, b)) in xr.iter().zip(&wrow[..len]).enumerate() {
                part[i][t % 8] += a * b;
            }
        }
        l += len;
    }
    for i in 0..m {
        acc[i] = part[i].iter().sum();
    }
}
