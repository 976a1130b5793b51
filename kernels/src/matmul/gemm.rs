//! Blocked GEMM for M > 4, in the BLIS arrangement: K in blocks of KC, x in blocks of MC rows
//! packed into MR-row panels, W's rows (y's columns) packed into NR-row panels converted to f32
//! (so f16/bf16 weights cost one conversion per K block, not one per FMA), and the micro-kernel
//! on one MR×NR tile at a time. Threads take disjoint ranges of W rows (columns of y), so no two
//! threads ever write the same element of y.

use super::gemv::OutPtr;
use super::microkernel::{Kernel, MAX_TILE};
use super::par_ranges;
use crate::{MatRef, SimdLevel};

/// Rows of x per block: the packed x block (MC·KC floats, 96–144 KiB) stays in L2. A multiple
/// of every kernel's MR (4, 6, 8), which [`xpack_offset`] relies on.
const MC: usize = 96;

/// K block. The packed W micro-panel (KC·NR floats) is re-read for every x micro-panel, so it
/// should stay in L1: 384·16·4 = 24 KiB for the 6×16 AVX2 kernel (384 measured faster than 256:
/// fewer passes over y), 256·32·4 = 32 KiB for the 8×32 AVX-512 one.
fn kc_for(kernel: &Kernel) -> usize {
    if kernel.nr >= 32 {
        256
    } else {
        384
    }
}

thread_local! {
    /// Packing buffers kept between calls: fresh multi-megabyte buffers cost page faults that
    /// showed up as 8% of a 512×1024×1024 GEMM. Taken out of the cell while in use (not
    /// borrowed), so a nested call on the same thread (rayon work stealing while this call
    /// waits) finds an empty Vec instead of a borrow panic.
    static XPACK: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
    static WPACK: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Makes `v` exactly `len` long, reusing its allocation.
fn resize(v: &mut Vec<f32>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    level: SimdLevel,
    threads: usize,
    x: &[f32],
    w: MatRef,
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) {
    let kernel = Kernel::for_level(level);
    let kc_max = kc_for(&kernel);
    // x is packed once, for every (K block, row block), and shared by all threads.
    let mut xpack = XPACK.take();
    pack_all_x(&kernel, kc_max, x, m, k, &mut xpack);
    let out = OutPtr(y.as_mut_ptr());
    let (mr, nr) = (kernel.mr, kernel.nr);
    // A few ranges per thread balance cores that run at different speeds (shared machines);
    // one range per thread measured slower here.
    par_ranges(n, threads, threads * 4, nr, |s, e| {
        let mut wpack = WPACK.take();
        let panels = (e - s).div_ceil(nr);
        resize(&mut wpack, panels * nr * kc_max);
        let mut edge = [0f32; MAX_TILE];
        for pc in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - pc);
            // The first K block stores into y, later ones add: y needs no zeroing pass.
            let add = pc > 0;
            pack_w(nr, w, k, s, e, pc, kc, &mut wpack);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let apack = &xpack[xpack_offset(mr, m, pc, kc, ic)..];
                for p in 0..panels {
                    let b = &wpack[p * nr * kc..(p + 1) * nr * kc];
                    let j0 = s + p * nr;
                    let cols = nr.min(e - j0);
                    for q in 0..mc.div_ceil(mr) {
                        let a = &apack[q * mr * kc..(q + 1) * mr * kc];
                        let i0 = ic + q * mr;
                        let rows = mr.min(m - i0);
                        if rows == mr && cols == nr {
                            // SAFETY: rows i0..i0+mr <= m and columns j0..j0+nr <= e <= n of y
                            // are inside y and belong to this range alone.
                            unsafe { kernel.run(kc, a, b, out.get().add(i0 * n + j0), n, add) };
                            continue;
                        }
                        // Edge tile: compute into a scratch tile, then copy the valid part.
                        // SAFETY: `edge` holds MAX_TILE >= mr·nr floats, row stride nr.
                        unsafe { kernel.run(kc, a, b, edge.as_mut_ptr(), nr, false) };
                        for r in 0..rows {
                            for c in 0..cols {
                                let v = edge[r * nr + c];
                                // SAFETY: i0 + r < m and j0 + c < e <= n; column j0 + c is ours.
                                unsafe {
                                    let dst = out.get().add((i0 + r) * n + j0 + c);
                                    *dst = if add { *dst + v } else { v };
                                }
                            }
                        }
                    }
                }
            }
        }
        WPACK.set(wpack);
    });
    XPACK.set(xpack);
}

/// Packs W rows `s..e`, K range `pc..pc+kc`, into nr-row panels (`panel[kk·nr + c]`, widened to
/// f32), zero-padded past `e`. Each W row is read contiguously; the strided writes land in a
/// panel small enough for L1.
#[allow(clippy::too_many_arguments)]
fn pack_w(
    nr: usize,
    w: MatRef,
    k: usize,
    s: usize,
    e: usize,
    pc: usize,
    kc: usize,
    out: &mut [f32],
) {
    let mut row = [0f32; 512];
    for (p, panel) in out
        .chunks_mut(nr * kc)
        .take((e - s).div_ceil(nr))
        .enumerate()
    {
        for c in 0..nr {
            let j = s + p * nr + c;
            if j < e {
                // f32 rows are read in place; f16/bf16 are widened once, here.
                let src: &[f32] = match w {
                    MatRef::F32(d) => &d[j * k + pc..j * k + pc + kc],
                    _ => {
                        w.copy_f32(j * k + pc, &mut row[..kc]);
                        &row[..kc]
                    }
                };
                for (kk, v) in src.iter().enumerate() {
                    panel[kk * nr + c] = *v;
                }
            } else {
                for kk in 0..kc {
                    panel[kk * nr + c] = 0.0;
                }
            }
        }
    }
}

/// Where the packed block (K block at `pc` of width `kc`, rows from `ic`) starts in
/// [`pack_all_x`]'s buffer: the K blocks before it hold `pc` columns of all (padded) rows, and
/// the row blocks before it `ic` rows of this block (MC is a multiple of mr).
fn xpack_offset(mr: usize, m: usize, pc: usize, kc: usize, ic: usize) -> usize {
    pc * m.div_ceil(mr) * mr + ic * kc
}

/// Packs all of x: for each K block, its rows in mr-row panels (`panel[kk·mr + r]`),
/// zero-padded past the last row.
fn pack_all_x(kernel: &Kernel, kc_max: usize, x: &[f32], m: usize, k: usize, out: &mut Vec<f32>) {
    let mr = kernel.mr;
    debug_assert_eq!(MC % mr, 0);
    resize(out, m.div_ceil(mr) * mr * k);
    for pc in (0..k).step_by(kc_max) {
        let kc = kc_max.min(k - pc);
        let block = &mut out[xpack_offset(mr, m, pc, kc, 0)..];
        for (q, panel) in block.chunks_mut(mr * kc).take(m.div_ceil(mr)).enumerate() {
            for r in 0..mr {
                let i = q * mr + r;
                if i < m {
                    let src = &x[i * k + pc..i * k + pc + kc];
                    for (kk, v) in src.iter().enumerate() {
                        panel[kk * mr + r] = *v;
                    }
                }
                // Padding rows stay zero from `resize`.
            }
        }
    }
}
