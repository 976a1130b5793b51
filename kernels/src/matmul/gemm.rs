//! Blocked GEMM for M > 4, in the BLIS arrangement: K in blocks of KC, x in blocks of MC rows
//! packed into MR-row panels, W's rows (y's columns) packed into NR-row panels converted to f32
//! (so f16/bf16 weights cost one conversion per use of a K block, not per FMA), and the
//! micro-kernel on one MR×NR tile at a time. Threads take disjoint ranges of W rows.

use super::gemv::OutPtr;
use super::microkernel::{self, MR, NR};
use super::par_ranges;
use crate::{MatRef, SimdLevel};

/// K block: a packed panel pair (KC·(MR+NR) floats, 33 KiB) about fills L1; 384 measured
/// faster than 256 (fewer passes of y through the cache).
const KC: usize = 384;
/// Rows of x per block: the packed x block (MC·KC floats, 96 KiB) stays in L2.
const MC: usize = 96;

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
    // x is packed once, for every (K block, row block), and shared by all threads.
    XPACK.with_borrow_mut(|xpack| {
        pack_all_x(x, m, k, xpack);
        gemm_packed(level, threads, xpack, w, m, n, k, y);
    });
}

thread_local! {
    /// Packing buffers kept between calls: fresh multi-megabyte buffers cost page faults that
    /// showed up as 8% of a 512×1024×1024 GEMM.
    static XPACK: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    static BPACK: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Makes `v` exactly `len` long, reusing its allocation.
fn resize(v: &mut Vec<f32>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

#[allow(clippy::too_many_arguments)]
fn gemm_packed(
    level: SimdLevel,
    threads: usize,
    xpack: &[f32],
    w: MatRef,
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) {
    let out = OutPtr(y.as_mut_ptr());
    par_ranges(n, threads, NR, |s, e| {
        BPACK.with_borrow_mut(|bpack| {
            let panels = (e - s).div_ceil(NR);
            resize(bpack, panels * NR * KC);
            let mut edge = [0f32; MR * NR];
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let add = pc > 0;
                pack_w(w, k, s, e, pc, kc, bpack);
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let apack = &xpack[xpack_offset(m, pc, kc, ic)..];
                    for p in 0..panels {
                        let b = &bpack[p * NR * kc..(p + 1) * NR * kc];
                        let j0 = s + p * NR;
                        let cols = NR.min(e - j0);
                        for q in 0..mc.div_ceil(MR) {
                            let a = &apack[q * MR * kc..(q + 1) * MR * kc];
                            let i0 = ic + q * MR;
                            let rows = MR.min(m - i0);
                            if rows == MR && cols == NR {
                                // SAFETY: rows i0..i0+MR < m and columns j0..j0+NR <= e <= n of y
                                // belong to this range alone.
                                unsafe {
                                    microkernel::run(
                                        level,
                                        kc,
                                        a,
                                        b,
                                        out.get().add(i0 * n + j0),
                                        n,
                                        add,
                                    )
                                };
                            } else {
                                // Edge tile: compute into a scratch tile, then copy the valid part.
                                // SAFETY: `edge` is a local MR×NR tile with row stride NR.
                                unsafe {
                                    microkernel::run(level, kc, a, b, edge.as_mut_ptr(), NR, false)
                                };
                                for r in 0..rows {
                                    for c in 0..cols {
                                        // SAFETY: i0 + r < m and j0 + c < e <= n; column j0 + c is ours.
                                        unsafe {
                                            let dst = out.get().add((i0 + r) * n + j0 + c);
                                            *dst = if add {
                                                *dst + edge[r * NR + c]
                                            } else {
                                                edge[r * NR + c]
                                            };
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        })
    });
}

/// Packs W rows `s..e`, K range `pc..pc+kc`, into NR-row panels: `panel[kk·NR + c]`, zero-padded
/// past `e`.
fn pack_w(w: MatRef, k: usize, s: usize, e: usize, pc: usize, kc: usize, out: &mut [f32]) {
    let mut row = [0f32; KC];
    for (p, panel) in out
        .chunks_mut(NR * kc)
        .take((e - s).div_ceil(NR))
        .enumerate()
    {
        for c in 0..NR {
            let j = s + p * NR + c;
            if j < e {
                w.copy_f32(j * k + pc, &mut row[..kc]);
                for kk in 0..kc {
                    panel[kk * NR + c] = row[kk];
                }
            } else {
                for kk in 0..kc {
                    panel[kk * NR + c] = 0.0;
                }
            }
        }
    }
}

/// Where the packed block (K block at `pc` of width `kc`, rows from `ic`) starts in
/// [`pack_all_x`]'s buffer: the K blocks before it hold `pc` columns of all (padded) rows, and
/// the row blocks before it `ic` rows of this block (MC is a multiple of MR).
fn xpack_offset(m: usize, pc: usize, kc: usize, ic: usize) -> usize {
    pc * m.div_ceil(MR) * MR + ic * kc
}

/// Packs all of x into `out`: for each K block, its rows in MR-row panels (`panel[kk·MR + r]`).
fn pack_all_x(x: &[f32], m: usize, k: usize, out: &mut Vec<f32>) {
    resize(out, m.div_ceil(MR) * MR * k);
    for pc in (0..k).step_by(KC) {
        let kc = KC.min(k - pc);
        for ic in (0..m).step_by(MC) {
            let mc = MC.min(m - ic);
            let start = xpack_offset(m, pc, kc, ic);
            pack_x(
                x,
                k,
                ic,
                mc,
                pc,
                kc,
                &mut out[start..start + mc.div_ceil(MR) * MR * kc],
            );
        }
    }
}

/// Packs x rows `ic..ic+mc`, K range `pc..pc+kc`, into MR-row panels: `panel[kk·MR + r]`,
/// zero-padded past the last row.
fn pack_x(x: &[f32], k: usize, ic: usize, mc: usize, pc: usize, kc: usize, out: &mut [f32]) {
    for (q, panel) in out.chunks_mut(MR * kc).take(mc.div_ceil(MR)).enumerate() {
        for r in 0..MR {
            let i = q * MR + r;
            if i < mc {
                let src = &x[(ic + i) * k + pc..(ic + i) * k + pc + kc];
                for (kk, v) in src.iter().enumerate() {
                    panel[kk * MR + r] = *v;
                }
            } else {
                for kk in 0..kc {
                    panel[kk * MR + r] = 0.0;
                }
            }
        }
    }
}
