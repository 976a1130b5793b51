//! The non-linear 4-bit formats: IQ4_NL (32 elements) and IQ4_XS (256, 6-bit sub-block scales).

use super::plain::f16_at;

/// The 16 levels both formats index.
pub const KVALUES: [i8; 16] = [
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/// IQ4_NL: `d: f16 @0`, `qs: u8[16] @2` (Q4 nibble order); `w = d·kvalues[q]`.
pub(crate) fn dequant_iq4_nl(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        out[j] = d * f32::from(KVALUES[usize::from(b[2 + j] & 15)]);
        out[j + 16] = d * f32::from(KVALUES[usize::from(b[2 + j] >> 4)]);
    }
}

/// IQ4_XS: `d: f16 @0`, `scales_h: u16 @2`, `scales_l: u8[4] @4`, `qs: u8[128] @8`.
/// Sub-block `s` (32 elements): `ls = (scales_l[s/2] >> 4(s%2)) & 15 | ((scales_h >> 2s) & 3) << 4`,
/// `w = (d·(ls − 32))·kvalues[q]`, nibbles in Q4 order within the sub-block's 16 bytes.
pub(crate) fn dequant_iq4_xs(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let sh = u16::from_le_bytes([b[2], b[3]]);
    for s in 0..8 {
        let low = (b[4 + s / 2] >> (4 * (s % 2))) & 15;
        let high = ((sh >> (2 * s)) & 3) as u8;
        let dl = d * f32::from(i16::from(low | (high << 4)) - 32);
        let qs = &b[8 + 16 * s..8 + 16 * s + 16];
        for j in 0..16 {
            out[32 * s + j] = dl * f32::from(KVALUES[usize::from(qs[j] & 15)]);
            out[32 * s + j + 16] = dl * f32::from(KVALUES[usize::from(qs[j] >> 4)]);
        }
    }
}
