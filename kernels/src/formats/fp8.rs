//! FP8 weights (OCP): E4M3 (`float8_e4m3fn`: bias 7, max 448, no infinity, S.1111.111 NaN)
//! and E5M2 (bias 15, max 57344, IEEE-like infinities and NaNs), with a per-row or
//! per-tensor f32 scale. lowbit's layouts `F8E4M3` / `F8E5M2` store blocks of 32 codes with the
//! scale repeated in each block (`scale: f32 @0`, codes `@4`), so every block decodes alone:
//! `w = fl(scale · value(code))` (one f32 rounding, the same on every backend).
//!
//! Conversions from f32 round to nearest even and **saturate** to ±max (OCP: E4M3 has no
//! infinity); NaN stays NaN.

use std::sync::LazyLock;

use crate::error::elems;
use crate::KernelError;

/// The value of an E4M3 code.
pub fn e4m3_to_f32(c: u8) -> f32 {
    let s = if c & 0x80 != 0 { -1.0 } else { 1.0 };
    let e = i32::from((c >> 3) & 15);
    let m = f32::from(c & 7);
    if c & 0x7f == 0x7f {
        return f32::NAN;
    }
    s * if e == 0 {
        m * (2f32).powi(-9)
    } else {
        (1.0 + m / 8.0) * (2f32).powi(e - 7)
    }
}

/// The value of an E5M2 code.
pub fn e5m2_to_f32(c: u8) -> f32 {
    let s = if c & 0x80 != 0 { -1.0 } else { 1.0 };
    let e = i32::from((c >> 2) & 31);
    let m = f32::from(c & 3);
    if e == 31 {
        return if m == 0.0 {
            s * f32::INFINITY
        } else {
            f32::NAN
        };
    }
    s * if e == 0 {
        m * (2f32).powi(-16)
    } else {
        (1.0 + m / 4.0) * (2f32).powi(e - 15)
    }
}

/// Round-to-nearest-even, saturating conversion of `x` to a code with `mbits` mantissa bits,
/// exponent bias `bias`, largest finite code magnitude `max_code` (and its value `max`).
fn to_fp8(x: f32, mbits: u32, bias: i32, max: f32, max_code: u8, nan: u8) -> u8 {
    if x.is_nan() {
        return nan;
    }
    let sign = if x.is_sign_negative() { 0x80 } else { 0 };
    let a = f64::from(x.abs());
    if a >= f64::from(max) {
        return sign | max_code;
    }
    // The quantum at a's binade (never below the subnormal quantum 2^(1-bias-mbits)).
    let min_exp = 1 - bias;
    let e = if a == 0.0 {
        min_exp
    } else {
        (a.log2().floor() as i32).max(min_exp)
    };
    let quantum = 2f64.powi(e - mbits as i32);
    let steps = a / quantum;
    let mut r = steps.round();
    if (steps - steps.floor() - 0.5).abs() == 0.0 && r % 2.0 != 0.0 {
        r -= 1.0; // halfway: to even
    }
    let v = r * quantum;
    if v >= f64::from(max) {
        return sign | max_code;
    }
    if v == 0.0 {
        return sign;
    }
    let ve = (v.log2().floor() as i32).max(min_exp);
    let (field_e, field_m) = if v < 2f64.powi(min_exp) {
        (0, (v / 2f64.powi(min_exp - mbits as i32)) as u32)
    } else {
        let m = ((v / 2f64.powi(ve) - 1.0) * f64::from(1u32 << mbits)).round() as u32;
        ((ve + bias) as u32, m)
    };
    sign | ((field_e << mbits) | field_m) as u8
}

/// f32 to E4M3, round to nearest even, saturating at ±448.
pub fn f32_to_e4m3(x: f32) -> u8 {
    to_fp8(x, 3, 7, 448.0, 0x7e, 0x7f)
}

/// f32 to E5M2, round to nearest even, saturating at ±57344 (no infinity produced).
pub fn f32_to_e5m2(x: f32) -> u8 {
    if x.is_infinite() {
        return if x < 0.0 { 0xfb } else { 0x7b };
    }
    to_fp8(x, 2, 15, 57344.0, 0x7b, 0x7f)
}

/// Which FP8 encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fp8 {
    /// OCP E4M3 (`float8_e4m3fn`).
    E4M3,
    /// OCP E5M2.
    E5M2,
}

/// Every code's value, from the functions above once (they compute each with `powi`, too slow
/// per element for the block decoder that the CPU's fallback and prefill panels run).
static E4M3_VALUES: LazyLock<[f32; 256]> =
    LazyLock::new(|| std::array::from_fn(|c| e4m3_to_f32(c as u8)));
static E5M2_VALUES: LazyLock<[f32; 256]> =
    LazyLock::new(|| std::array::from_fn(|c| e5m2_to_f32(c as u8)));

/// `F8E4M3` / `F8E5M2` decode: `w = fl(scale·value)`.
pub(crate) fn dequant_fp8(kind: Fp8, b: &[u8], out: &mut [f32]) {
    let scale = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let values = match kind {
        Fp8::E4M3 => &*E4M3_VALUES,
        Fp8::E5M2 => &*E5M2_VALUES,
    };
    for (o, &c) in out.iter_mut().zip(&b[4..36]) {
        *o = scale * values[usize::from(c)];
    }
}

/// Builds the blocks of `[n, k]` FP8 codes with one scale per row (`scales.len() == n`) or
/// one for the whole tensor (`scales.len() == 1`). `k` must be a multiple of 32.
pub fn fp8_blocks(
    codes: &[u8],
    scales: &[f32],
    n: usize,
    k: usize,
) -> Result<Vec<u8>, KernelError> {
    let len = elems("FP8 weights", &[n, k])?;
    if !k.is_multiple_of(32) || codes.len() != len || !(scales.len() == n || scales.len() == 1) {
        return Err(KernelError::Shape(format!(
            "FP8 [{n}, {k}]: K must be a multiple of 32, codes {} (want {len}), scales {} (want {n} or 1)",
            codes.len(),
            scales.len()
        )));
    }
    let mut out = Vec::with_capacity(n * k / 32 * 36);
    for row in 0..n {
        let s = scales[if scales.len() == 1 { 0 } else { row }];
        for blk in codes[row * k..(row + 1) * k].chunks(32) {
            out.extend_from_slice(&s.to_le_bytes());
            out.extend_from_slice(blk);
        }
    }
    Ok(out)
}

/// Quantises `[n, k]` f32 weights to FP8 with a per-row scale `max|w_row| / max(kind)`:
/// `(codes, scales)`, codes saturating and rounded to nearest even.
pub fn quantize_fp8(
    kind: Fp8,
    w: &[f32],
    n: usize,
    k: usize,
) -> Result<(Vec<u8>, Vec<f32>), KernelError> {
    let len = elems("FP8 weights", &[n, k])?;
    if w.len() != len {
        return Err(KernelError::Shape(format!(
            "FP8 [{n}, {k}]: {} weights given, want {len}",
            w.len()
        )));
    }
    let max = match kind {
        Fp8::E4M3 => 448.0,
        Fp8::E5M2 => 57344.0,
    };
    let mut codes = Vec::with_capacity(n * k);
    let mut scales = Vec::with_capacity(n);
    for row in w.chunks(k) {
        let amax = row.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        let scale = if amax > 0.0 { amax / max } else { 1.0 };
        for &v in row {
            let x = v / scale;
            codes.push(match kind {
                Fp8::E4M3 => f32_to_e4m3(x),
                Fp8::E5M2 => f32_to_e5m2(x),
            });
        }
        scales.push(scale);
    }
    Ok((codes, scales))
}
