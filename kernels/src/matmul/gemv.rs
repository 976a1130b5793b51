//! GEMV (M ≤ 4, the decode case): every W row is read once and dotted with all M rows of x.
//! Each thread takes one contiguous range of W rows, so it streams its own part of W front to
//! back, the access pattern hardware prefetchers serve best (as in `bandwidth::read_sum`).

use super::par_ranges;
use crate::{MatRef, SimdLevel};

/// Results of one register tile: `tile[r][i]` = x row i · W row j + r (up to 4 × 4).
pub(crate) type Tile = [[f32; 4]; 4];

/// Shares a raw output pointer between threads that write disjoint elements.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr<T>(pub *mut T);
// SAFETY: every thread writes a disjoint set of indices (its own rows of W / columns of y),
// guaranteed by the callers' range arithmetic, and the pointer outlives par_ranges' scope.
unsafe impl<T> Send for OutPtr<T> {}
// SAFETY: as above; shared references only hand out the pointer value.
unsafe impl<T> Sync for OutPtr<T> {}

impl<T> OutPtr<T> {
    /// The pointer (a method, so closures capture the Sync wrapper, not the raw field).
    pub(crate) fn get(self) -> *mut T {
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
    debug_assert!(m <= 4);
    let out = OutPtr(y.as_mut_ptr());
    // One range per thread: more pieces only add scheduling and more concurrent DRAM streams.
    // (Cutting K into L1-sized blocks of x for M > 1 was tried and measured slower: it breaks
    // W's sequential stream, which matters more than x's L2 traffic.)
    par_ranges(n, threads, threads.max(1), 4, |start, end| {
        let mut tile: Tile = [[0.0; 4]; 4];
        let mut j = start;
        while j < end {
            let r = dot_tile(level, x, w, j, end - j, m, k, 0, k, &mut tile);
            for (rr, col) in tile.iter().enumerate().take(r) {
                for (i, v) in col.iter().enumerate().take(m) {
                    // SAFETY: i < m and j + rr < end <= n, so the index is below m·n = y.len();
                    // rows start..end of W (columns of y) belong to this range alone.
                    unsafe { *out.get().add(i * n + j + rr) = *v };
                }
            }
            j += r;
        }
    });
}

/// Dots the m rows of x with up to `rows` W rows from row `j` over K range `l0..l0 + kl`;
/// returns how many rows it did.
#[allow(clippy::too_many_arguments)]
fn dot_tile(
    level: SimdLevel,
    x: &[f32],
    w: MatRef,
    j: usize,
    rows: usize,
    m: usize,
    k: usize,
    l0: usize,
    kl: usize,
    tile: &mut Tile,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        return super::gemv_x86::dot_tile(level, x, w, j, rows, m, k, l0, kl, tile);
    }
    #[cfg(target_arch = "aarch64")]
    if level == SimdLevel::Neon {
        super::neon::dot_rows(&x[l0..], w, j * k + l0, m, k, kl, &mut tile[0]);
        return 1;
    }
    let _ = (level, rows);
    scalar_dot_rows(&x[l0..], w, j * k + l0, m, k, kl, &mut tile[0]);
    1
}

/// Portable version: `acc[i] = Σ_{l<kl} x[i·k + l] · w[w0 + l]`, eight partial sums per row
/// (independent chains the compiler can vectorise), weights widened 64 at a time.
pub(crate) fn scalar_dot_rows(
    x: &[f32],
    w: MatRef,
    w0: usize,
    m: usize,
    k: usize,
    kl: usize,
    acc: &mut [f32; 4],
) {
    let mut wrow = [0f32; 64];
    let mut part = [[0f32; 8]; 4];
    let mut l = 0;
    while l < kl {
        let len = 64.min(kl - l);
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
