//! Ternary formats: TQ1_0 (base-3, 5 trits per byte as fixed-point fractions) and TQ2_0
//! (2 bits per weight). Values `d·(t − 1)`, `t ∈ {0, 1, 2}` (TQ2_0's code 3 decodes to +2).

use super::legacy::roundf;
use super::plain::{f16_at, f16_bytes};

/// Trit `p` (0 = most significant) of a TQ1_0 byte: `((b·3^p) mod 256)·3 >> 8`.
#[inline(always)]
pub fn trit(b: u8, p: u32) -> u8 {
    let v = b.wrapping_mul(3u8.pow(p));
    ((u16::from(v) * 3) >> 8) as u8
}

/// TQ1_0: `qs: u8[48] @0`, `qh: u8[4] @48`, `d: f16 @52`.
pub(crate) fn dequant_tq1_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 52);
    let w = |t: u8| d * f32::from(i16::from(t) - 1);
    for p in 0..5 {
        for l in 0..32 {
            out[32 * p + l] = w(trit(b[l], p as u32));
        }
        for l in 0..16 {
            out[160 + 16 * p + l] = w(trit(b[32 + l], p as u32));
        }
    }
    for p in 0..4 {
        for l in 0..4 {
            out[240 + 4 * p + l] = w(trit(b[48 + l], p as u32));
        }
    }
}

/// TQ2_0: `qs: u8[64] @0`, `d: f16 @64`; element `128h + 32j + l` is bits `2j` of `qs[32h + l]`.
pub(crate) fn dequant_tq2_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 64);
    for (e, o) in out.iter_mut().enumerate() {
        let (h, j, l) = (e / 128, (e / 32) % 4, e % 32);
        let q = (b[32 * h + l] >> (2 * j)) & 3;
        *o = d * f32::from(i16::from(q) - 1);
    }
}

/// `(d, trits + 1)` of a block as both ternary quantisers take them: `d = max|x|`,
/// `t = roundf(x/d) + 1`.
fn ternary_codes(x: &[f32]) -> (f32, [u8; 256]) {
    let d = x.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    let mut t = [0u8; 256];
    for (t, &v) in t.iter_mut().zip(x) {
        *t = (roundf(v * id) as i8 + 1) as u8;
    }
    (d, t)
}

/// TQ1_0 quantiser (gguf-py / ggml reference).
pub(crate) fn quant_tq1_0(x: &[f32], out: &mut [u8]) {
    let (d, t) = ternary_codes(x);
    let pack = |digits: &mut dyn Iterator<Item = u8>| -> u8 {
        let mut v: u16 = 0;
        for (digit, weight) in digits.zip([81u16, 27, 9, 3, 1]) {
            v += u16::from(digit) * weight;
        }
        // A fixed-point fraction of 243, rounded up.
        (v * 256).div_ceil(243) as u8
    };
    for l in 0..32 {
        out[l] = pack(&mut (0..5).map(|p| t[32 * p + l]));
    }
    for l in 0..16 {
        out[32 + l] = pack(&mut (0..5).map(|p| t[160 + 16 * p + l]));
    }
    for l in 0..4 {
        out[48 + l] = pack(&mut (0..4).map(|p| t[240 + 4 * p + l]));
    }
    out[52..54].copy_from_slice(&f16_bytes(d));
}

/// TQ2_0 quantiser (gguf-py / ggml reference).
pub(crate) fn quant_tq2_0(x: &[f32], out: &mut [u8]) {
    let (d, t) = ternary_codes(x);
    for h in 0..2 {
        for l in 0..32 {
            let mut b = 0u8;
            for j in 0..4 {
                b |= t[128 * h + 32 * j + l] << (2 * j);
            }
            out[32 * h + l] = b;
        }
    }
    out[64..66].copy_from_slice(&f16_bytes(d));
}
