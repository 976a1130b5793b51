//! Blocked GEMM for M > 4, in the BLIS arrangement: K in blocks of KC, x in blocks of MC rows
//! packed into MR-row panels, W's rows (y's columns) packed into NR-row panels converted to f32
//! (so f16/bf16 weights cost one conversion per use of a K block, not per FMA), and the
//! micro-kernel on one MR×NR tile at a time. Threads take disjoint ranges of W rows.

use super::gemv::OutPtr;
use super::microkernel::{self, MR, NR};
use super::par_ranges;
use crate::{MatRef, SimdLevel};

/// K block: a packed panel pair (KC·(MR+NR) floats) stays in L1.
const KC: usize = 256;
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
    let out = OutPtr(y.as_mut_ptr());
    par_ranges(n, threads, NR, |s, e| {
        // SAFETY (for every write below): this range owns columns s..e of y, rows 0..m.
        for i in 0..m {
            for j in s..e {
                unsafe { *out.get().add(i * n + j) = 0.0 };
            }
        }
        let panels = (e - s).div_ceil(NR);
        let mut bpack = vec![0f32; panels * NR * KC];
        let mut apack = vec![0f32; MC.div_ceil(MR) * MR * KC];
        let mut tile = [0f32; MR * NR];
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            pack_w(w, k, s, e, pc, kc, &mut bpack);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack_x(x, k, ic, mc, pc, kc, &mut apack);
                for p in 0..panels {
                    let b = &bpack[p * NR * kc..(p + 1) * NR * kc];
                    let j0 = s + p * NR;
                    let cols = NR.min(e - j0);
                    for q in 0..mc.div_ceil(MR) {
                        let a = &apack[q * MR * kc..(q + 1) * MR * kc];
                        microkernel::run(level, kc, a, b, &mut tile);
                        let i0 = ic + q * MR;
                        for r in 0..MR.min(m - i0) {
                            for c in 0..cols {
                                // SAFETY: i0 + r < m and j0 + c < e <= n; column j0 + c is ours.
                                unsafe {
                                    *out.get().add((i0 + r) * n + j0 + c) += tile[r * NR + c]
                                };
                            }
                        }
                    }
                }
            }
        }
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
