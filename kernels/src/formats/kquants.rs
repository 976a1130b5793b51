//! The 256-element K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (layouts: QUANT_VECTORS.md).
//! Each element is `(d·sc)·q − (dmin·mn)` or `(d·sc)·q`: the products are exact in f32 and
//! the subtraction is the only rounding, as in ggml's decoder.

use super::plain::f16_at;

/// Q2_K: `scales: u8[16] @0`, `qs: u8[64] @16`, `d: f16 @80`, `dmin: f16 @82`.
pub(crate) fn dequant_q2_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
    for (e, o) in out.iter_mut().enumerate() {
        let s = b[e / 16];
        let (h, j, l) = (e / 128, (e / 32) % 4, e % 32);
        let q = (b[16 + 32 * h + l] >> (2 * j)) & 3;
        *o = (d * f32::from(s & 15)) * f32::from(q) - dmin * f32::from(s >> 4);
    }
}

/// Q3_K: `hmask: u8[32] @0`, `qs: u8[64] @32`, `scales: u8[12] @96`, `d: f16 @108`.
pub(crate) fn dequant_q3_k(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 108);
    let sc = &b[96..108];
    let scale = |s: usize| -> i32 {
        let low4 = if s < 8 { sc[s] & 15 } else { sc[s - 8] >> 4 };
        let high2 = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
        i32::from(low4 | (high2 << 4)) - 32
    };
    for (e, o) in out.iter_mut().enumerate() {
        let (h, j, l) = (e / 128, (e / 32) % 4, e % 32);
        let ql = i32::from((b[32 + 32 * h + l] >> (2 * j)) & 3);
        let hb = (b[e % 32] >> (e / 32)) & 1;
        let q = ql - if hb != 0 { 0 } else { 4 };
        *o = (d * scale(e / 16) as f32) * q as f32;
    }
}

/// The eight 6-bit `(sc, mn)` pairs of Q4_K / Q5_K from their 12 scale bytes.
#[inline(always)]
pub(crate) fn k_scale_min(s: &[u8], j: usize) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// Q4_K: `d: f16 @0`, `dmin: f16 @2`, `scales: u8[12] @4`, `qs: u8[128] @16`.
pub(crate) fn dequant_q4_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    for (e, o) in out.iter_mut().enumerate() {
        let (c, t, l) = (e / 64, (e / 32) % 2, e % 32);
        let q = (b[16 + 32 * c + l] >> (4 * t)) & 15;
        let (sc, mn) = k_scale_min(&b[4..16], e / 32);
        *o = (d * f32::from(sc)) * f32::from(q) - dmin * f32::from(mn);
    }
}

/// Q5_K: `d @0`, `dmin @2`, `scales @4`, `qh: u8[32] @16`, `qs: u8[128] @48`.
pub(crate) fn dequant_q5_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    for (e, o) in out.iter_mut().enumerate() {
        let (c, t, l) = (e / 64, (e / 32) % 2, e % 32);
        let low = (b[48 + 32 * c + l] >> (4 * t)) & 15;
        let q = low | (((b[16 + e % 32] >> (e / 32)) & 1) << 4);
        let (sc, mn) = k_scale_min(&b[4..16], e / 32);
        *o = (d * f32::from(sc)) * f32::from(q) - dmin * f32::from(mn);
    }
}

/// Q6_K: `ql: u8[128] @0`, `qh: u8[64] @128`, `scales: i8[16] @192`, `d: f16 @208`.
pub(crate) fn dequant_q6_k(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 208);
    for (e, o) in out.iter_mut().enumerate() {
        let (h, t, l) = (e / 128, (e / 64) % 2, e % 64);
        let low4 = (b[64 * h + l] >> (4 * t)) & 15;
        let (j, l2) = ((e / 32) % 4, e % 32);
        let high2 = (b[128 + 32 * h + l2] >> (2 * j)) & 3;
        let q = i32::from(low4 | (high2 << 4)) - 32;
        let sc = b[192 + e / 16] as i8;
        *o = (d * f32::from(sc)) * q as f32;
    }
}
