//! The 32-element formats: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1. "Q4 nibble order": element `j` is the
//! low nibble of `qs[j]`, element `j + 16` its high nibble. The quantisers follow ggml's
//! `quantize_row_*_ref` operation for operation in f32 (so they give its bytes).

use super::plain::{f16_at, f16_bytes, u32_at};

/// Q8_0: `d: f16 @0`, `qs: i8[32] @2`; `w = d·q`.
pub(crate) fn dequant_q8_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for (o, &q) in out.iter_mut().zip(&b[2..34]) {
        *o = d * f32::from(q as i8);
    }
}

/// Q4_0: `d: f16 @0`, `qs: u8[16] @2`; `w = d·(q − 8)`.
pub(crate) fn dequant_q4_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        let q = b[2 + j];
        out[j] = d * f32::from(i16::from(q & 15) - 8);
        out[j + 16] = d * f32::from(i16::from(q >> 4) - 8);
    }
}

/// Q4_1: `d: f16 @0`, `m: f16 @2`, `qs: u8[16] @4`; `w = d·q + m`.
pub(crate) fn dequant_q4_1(b: &[u8], out: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for j in 0..16 {
        let q = b[4 + j];
        out[j] = d * f32::from(q & 15) + m;
        out[j + 16] = d * f32::from(q >> 4) + m;
    }
}

/// The 5-bit value of element `e` from its low nibble and `qh`.
#[inline(always)]
fn q5(qs: &[u8], qh: u32, e: usize) -> u8 {
    let low = if e < 16 { qs[e] & 15 } else { qs[e - 16] >> 4 };
    low | ((((qh >> e) & 1) as u8) << 4)
}

/// Q5_0: `d: f16 @0`, `qh: u32 @2`, `qs: u8[16] @6`; `w = d·(q − 16)`.
pub(crate) fn dequant_q5_0(b: &[u8], out: &mut [f32]) {
    let (d, qh) = (f16_at(b, 0), u32_at(b, 2));
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * f32::from(i16::from(q5(&b[6..22], qh, e)) - 16);
    }
}

/// Q5_1: `d: f16 @0`, `m: f16 @2`, `qh: u32 @4`, `qs: u8[16] @8`; `w = d·q + m`.
pub(crate) fn dequant_q5_1(b: &[u8], out: &mut [f32]) {
    let (d, m, qh) = (f16_at(b, 0), f16_at(b, 2), u32_at(b, 4));
    for (e, o) in out.iter_mut().enumerate() {
        *o = d * f32::from(q5(&b[8..24], qh, e)) + m;
    }
}

/// ggml's `roundf`: half away from zero.
#[inline(always)]
pub(crate) fn roundf(x: f32) -> f32 {
    x.round()
}

/// The element of largest magnitude, the first one on ties (as ggml's loops find it).
fn signed_absmax(x: &[f32]) -> f32 {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// `(min, max)` as ggml's loops find them.
fn min_max(x: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = (f32::MAX, -f32::MAX);
    for &v in x {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    (lo, hi)
}

/// `1/d`, or 0 for `d = 0`.
#[inline(always)]
fn inv(d: f32) -> f32 {
    if d != 0.0 {
        1.0 / d
    } else {
        0.0
    }
}

/// C's `(int8_t)(v)` for the values these quantisers produce (truncation toward zero).
#[inline(always)]
fn trunc_i8(v: f32) -> i32 {
    v as i8 as i32
}

pub(crate) fn quant_q8_0(x: &[f32], out: &mut [u8]) {
    let amax = x.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = inv(d);
    out[..2].copy_from_slice(&f16_bytes(d));
    for (o, &v) in out[2..].iter_mut().zip(x) {
        *o = roundf(v * id) as i8 as u8;
    }
}

pub(crate) fn quant_q4_0(x: &[f32], out: &mut [u8]) {
    let d = signed_absmax(x) / -8.0;
    let id = inv(d);
    out[..2].copy_from_slice(&f16_bytes(d));
    for j in 0..16 {
        let a = trunc_i8(x[j] * id + 8.5).min(15) as u8;
        let b = trunc_i8(x[j + 16] * id + 8.5).min(15) as u8;
        out[2 + j] = a | (b << 4);
    }
}

pub(crate) fn quant_q4_1(x: &[f32], out: &mut [u8]) {
    let (lo, hi) = min_max(x);
    let d = (hi - lo) / 15.0;
    let id = inv(d);
    out[..2].copy_from_slice(&f16_bytes(d));
    out[2..4].copy_from_slice(&f16_bytes(lo));
    for j in 0..16 {
        let a = trunc_i8((x[j] - lo) * id + 0.5).min(15) as u8;
        let b = trunc_i8((x[j + 16] - lo) * id + 0.5).min(15) as u8;
        out[4 + j] = a | (b << 4);
    }
}

pub(crate) fn quant_q5_0(x: &[f32], out: &mut [u8]) {
    let d = signed_absmax(x) / -16.0;
    let id = inv(d);
    out[..2].copy_from_slice(&f16_bytes(d));
    let mut qh = 0u32;
    for j in 0..16 {
        let a = trunc_i8(x[j] * id + 16.5).min(31) as u32;
        let b = trunc_i8(x[j + 16] * id + 16.5).min(31) as u32;
        out[6 + j] = ((a & 15) | ((b & 15) << 4)) as u8;
        qh |= ((a & 16) >> 4) << j;
        qh |= ((b & 16) >> 4) << (j + 16);
    }
    out[2..6].copy_from_slice(&qh.to_le_bytes());
}

pub(crate) fn quant_q5_1(x: &[f32], out: &mut [u8]) {
    let (lo, hi) = min_max(x);
    let d = (hi - lo) / 31.0;
    let id = inv(d);
    out[..2].copy_from_slice(&f16_bytes(d));
    out[2..4].copy_from_slice(&f16_bytes(lo));
    let mut qh = 0u32;
    for j in 0..16 {
        // ggml casts to uint8_t here, without a clamp.
        let a = ((x[j] - lo) * id + 0.5) as u8 as u32;
        let b = ((x[j + 16] - lo) * id + 0.5) as u8 as u32;
        out[8 + j] = ((a & 15) | ((b & 15) << 4)) as u8;
        qh |= ((a & 16) >> 4) << j;
        qh |= ((b & 16) >> 4) << (j + 16);
    }
    out[4..8].copy_from_slice(&qh.to_le_bytes());
}
