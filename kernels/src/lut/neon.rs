//! aarch64 NEON LUT kernel for int8 tables (NEON is part of the aarch64 baseline): a tile's
//! 32-byte plane vector is two 128-bit vectors of 16 rows; `tbl` looks up the low and high
//! nibbles in the pair's two 16-byte tables, a widening add sums them into int16, shifted by
//! the plane — int16 sums exact within a span, widened per span, in the operation order of
//! [`super::scalar`] (bit-identical to it). f32 tables take the portable kernel.

use std::arch::aarch64::*;

use super::layout::{LutWeights, TILE_ROWS};
use super::scalar::TileGeometry;
use super::tables::ENTRIES;

/// [`super::scalar::tile`] for int8 tables `q` with span scales `ls`.
pub(crate) fn tile_i8(
    w: &LutWeights,
    tile: usize,
    q: &[i8],
    ls: &[f32],
    sx: &[f32],
    y: &mut [f32],
) {
    let geo = TileGeometry::of(w);
    let stream = w.tile_planes(tile);
    let (scales, zeros) = w.tile_scales(tile);
    assert!(y.len() >= TILE_ROWS && sx.len() >= geo.groups);
    // SAFETY: NEON is always present on aarch64; every load and store is of a slice checked
    // to hold its 16 bytes or 4 floats.
    unsafe {
        let nib = vdupq_n_u8(0x0F);
        let c = vdupq_n_f32(geo.c);
        let mut acc_y = [vdupq_n_f32(0.0); 8];
        for (g, &sxg) in sx.iter().enumerate().take(geo.groups) {
            let s = &scales[g * TILE_ROWS..][..TILE_ROWS];
            let z = &zeros[g * TILE_ROWS..][..TILE_ROWS];
            let range = geo.group_range(g);
            for p0 in range.clone().step_by(geo.span_pairs) {
                let p1 = (p0 + geo.span_pairs).min(range.end);
                // Rows 0–7, 8–15, 16–23, 24–31.
                let mut sums = [vdupq_n_s16(0); 4];
                for p in p0..p1 {
                    let tab = &q[2 * p * ENTRIES..][..2 * ENTRIES];
                    let tlo = vld1q_s8(tab.as_ptr());
                    let thi = vld1q_s8(tab[ENTRIES..].as_ptr());
                    for i in 0..geo.bits {
                        let unit = &stream[(p * geo.bits + i) * TILE_ROWS..][..TILE_ROWS];
                        let shift = vdupq_n_s16(i as i16);
                        for h in 0..2 {
                            let v = vld1q_u8(unit[16 * h..][..16].as_ptr());
                            let lo = vqtbl1q_s8(tlo, vandq_u8(v, nib));
                            let hi = vqtbl1q_s8(thi, vshrq_n_u8::<4>(v));
                            let a = vaddl_s8(vget_low_s8(lo), vget_low_s8(hi));
                            let b = vaddl_high_s8(lo, hi);
                            sums[2 * h] = vaddq_s16(sums[2 * h], vshlq_s16(a, shift));
                            sums[2 * h + 1] = vaddq_s16(sums[2 * h + 1], vshlq_s16(b, shift));
                        }
                    }
                }
                let f = vdupq_n_f32(ls[p0 / geo.span_pairs] * 0.5);
                for (j, sm) in sums.iter().enumerate() {
                    let halves = [vmovl_s16(vget_low_s16(*sm)), vmovl_high_s16(*sm)];
                    for (hh, v) in halves.iter().enumerate() {
                        let r = 8 * j + 4 * hh;
                        let sf = vmulq_f32(vld1q_f32(s[r..][..4].as_ptr()), f);
                        acc_y[2 * j + hh] = vfmaq_f32(acc_y[2 * j + hh], vcvtq_f32_s32(*v), sf);
                    }
                }
            }
            let sxv = vdupq_n_f32(sxg);
            for (j, a) in acc_y.iter_mut().enumerate() {
                let sv = vld1q_f32(s[4 * j..][..4].as_ptr());
                let beta = vmulq_f32(sv, vsubq_f32(c, vld1q_f32(z[4 * j..][..4].as_ptr())));
                *a = vfmaq_f32(*a, beta, sxv);
            }
        }
        for (j, a) in acc_y.iter().enumerate() {
            vst1q_f32(y[4 * j..][..4].as_mut_ptr(), *a);
        }
    }
}
