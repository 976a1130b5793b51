//! The LUT kernels in portable Rust: one tile of rows against one token's tables. They define
//! the operation order the SIMD kernels follow, so those match them bit for bit:
//!
//! * f32 tables: per group, `acc ← fma(T[idx], 2^(i−1), acc)` for each pair of index groups,
//!   plane `i` ascending, low nibble then high; then `y ← fma(acc, s, y)`;
//! * int8 tables: per span, `I = Σ 2^i·(Q[lo] + Q[hi])` in integers (exact), then
//!   `y ← fma(I, s·(ls/2), y)`;
//! * per group, the zero-point term `y ← fma(s·(c − z), Σx, y)` with `c = (2^b − 1)/2`.
//!
//! Why this is `Σ w·x`: with `u = Σ_i 2^i·u_i` and `u_i·x = (±x + x)/2`,
//! `Σ_k u_k·x_k = ½·Σ_i 2^i·Σ_j T_j[idx_{i,j}] + c·Σx`, so `Σ s·(u − z)·x` is the table
//! term plus `s·(c − z)·Σx`.

use super::layout::{LutWeights, TILE_ROWS};
use super::tables::ENTRIES;
use super::Tables;

/// Where a tile's pieces are and how K is cut, shared by every kernel.
pub(crate) struct TileGeometry {
    /// Planes.
    pub bits: usize,
    /// Pairs of index groups per group of K.
    pub group_pairs: usize,
    /// Pairs per span (int8 table scale, int16 sums).
    pub span_pairs: usize,
    /// Pairs per row.
    pub pairs: usize,
    /// Groups per row.
    pub groups: usize,
    /// `(2^b − 1)/2`.
    pub c: f32,
}

impl TileGeometry {
    pub(crate) fn of(w: &LutWeights) -> Self {
        let pairs = w.pairs();
        TileGeometry {
            bits: w.bits() as usize,
            group_pairs: if w.group() == w.k() {
                pairs
            } else {
                w.group() / 8
            },
            span_pairs: w.span() / 8,
            pairs,
            groups: w.groups(),
            c: ((1u32 << w.bits()) - 1) as f32 * 0.5,
        }
    }

    /// The pairs of group `g`.
    pub(crate) fn group_range(&self, g: usize) -> std::ops::Range<usize> {
        g * self.group_pairs..((g + 1) * self.group_pairs).min(self.pairs)
    }
}

/// `y[r] = Σ_k w[32·tile + r, k]·x[k]` for the 32 rows of `tile` (padding rows too).
pub(crate) fn tile(w: &LutWeights, tile: usize, tabs: &Tables, sx: &[f32], y: &mut [f32]) {
    let geo = TileGeometry::of(w);
    let stream = w.tile_planes(tile);
    let (scales, zeros) = w.tile_scales(tile);
    for (r, yr) in y.iter_mut().enumerate().take(TILE_ROWS) {
        let mut acc_y = 0f32;
        for (g, &sxg) in sx.iter().enumerate().take(geo.groups) {
            let (s, z) = (scales[g * TILE_ROWS + r], zeros[g * TILE_ROWS + r]);
            let byte = |p: usize, i: usize| stream[(p * geo.bits + i) * TILE_ROWS + r];
            match *tabs {
                Tables::F32 { t } => {
                    let mut acc = 0f32;
                    for p in geo.group_range(g) {
                        for i in 0..geo.bits {
                            let (b, wi) = (byte(p, i), 0.5 * (1u32 << i) as f32);
                            let (lo, hi) = (usize::from(b & 15), usize::from(b >> 4));
                            acc = t[2 * p * ENTRIES + lo].mul_add(wi, acc);
                            acc = t[(2 * p + 1) * ENTRIES + hi].mul_add(wi, acc);
                        }
                    }
                    acc_y = acc.mul_add(s, acc_y);
                }
                Tables::Int8 { q, ls } => {
                    let range = geo.group_range(g);
                    for p0 in range.clone().step_by(geo.span_pairs) {
                        let mut sum = 0i32;
                        for p in p0..(p0 + geo.span_pairs).min(range.end) {
                            for i in 0..geo.bits {
                                let b = byte(p, i);
                                let lo = i32::from(q[2 * p * ENTRIES + usize::from(b & 15)]);
                                let hi = i32::from(q[(2 * p + 1) * ENTRIES + usize::from(b >> 4)]);
                                sum += (lo + hi) << i;
                            }
                        }
                        let f = ls[p0 / geo.span_pairs] * 0.5;
                        acc_y = (sum as f32).mul_add(s * f, acc_y);
                    }
                }
            }
            acc_y = (s * (geo.c - z)).mul_add(sxg, acc_y);
        }
        *yr = acc_y;
    }
}
