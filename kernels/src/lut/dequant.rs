//! The dequantise-in-register baseline over the LUT planes: per pair of index groups, each of a
//! tile's 32 rows gets its 8 codes from its plane bits, then `Σ u·x` in f32
//! (plain multiplies and adds: `mul_add` without FMA in the build's baseline is a call).

use super::layout::{LutWeights, TILE_ROWS};
use super::scalar::TileGeometry;

/// `y[r] = Σ_k w[32·tile + r, k]·x[k]` for the 32 rows of `tile`; `sx` the group sums of x.
pub(crate) fn tile(w: &LutWeights, tile: usize, x: &[f32], sx: &[f32], y: &mut [f32]) {
    let geo = TileGeometry::of(w);
    let stream = w.tile_planes(tile);
    let (scales, zeros) = w.tile_scales(tile);
    let mut yt = [0f32; TILE_ROWS];
    for (g, &sxg) in sx.iter().enumerate().take(geo.groups) {
        let s = &scales[g * TILE_ROWS..][..TILE_ROWS];
        let z = &zeros[g * TILE_ROWS..][..TILE_ROWS];
        let mut acc = [0f32; TILE_ROWS];
        for p in geo.group_range(g) {
            let mut u = [[0u8; TILE_ROWS]; 8];
            for i in 0..geo.bits {
                let unit = &stream[(p * geo.bits + i) * TILE_ROWS..][..TILE_ROWS];
                for (bit, ub) in u.iter_mut().enumerate() {
                    for (c, &b) in ub.iter_mut().zip(unit) {
                        *c |= ((b >> bit) & 1) << i;
                    }
                }
            }
            for (ub, &xv) in u.iter().zip(&x[8 * p..x.len().min(8 * p + 8)]) {
                for (a, &c) in acc.iter_mut().zip(ub) {
                    *a += f32::from(c) * xv;
                }
            }
        }
        for r in 0..TILE_ROWS {
            yt[r] += s[r] * acc[r] - (s[r] * z[r]) * sxg;
        }
    }
    y[..TILE_ROWS].copy_from_slice(&yt);
}
