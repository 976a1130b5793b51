//! F16 and BF16 elements, and the little-endian field readers every format shares.

use half::f16;

/// The f16 at byte `at` of `b`, decoded exactly (subnormals included).
#[inline(always)]
pub fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// The bf16 at byte `at` of `b` (the top half of an f32).
#[inline(always)]
pub fn bf16_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32::from(u16::from_le_bytes([b[at], b[at + 1]])) << 16)
}

/// The u32 at byte `at` of `b` (little-endian, any alignment).
#[inline(always)]
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `x` as f16 bytes, rounded to nearest even (as ggml's `GGML_FP32_TO_FP16`).
#[inline(always)]
pub fn f16_bytes(x: f32) -> [u8; 2] {
    f16::from_f32(x).to_bits().to_le_bytes()
}

/// One element to F16.
pub(crate) fn quant_f16(src: &[f32], dst: &mut [u8]) {
    dst.copy_from_slice(&f16_bytes(src[0]));
}

/// One element to BF16: round to nearest even, NaN kept a quiet NaN (as gguf-py and ggml).
pub(crate) fn quant_bf16(src: &[f32], dst: &mut [u8]) {
    let mut n = src[0].to_bits();
    if n & 0x7fff_ffff > 0x7f80_0000 {
        n = (n & 0xffff_0000) | (64 << 16);
    }
    let r = ((u64::from(n) + 0x7fff + u64::from((n >> 16) & 1)) >> 16) as u16;
    dst.copy_from_slice(&r.to_le_bytes());
}
