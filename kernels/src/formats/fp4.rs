//! FP4 (E2M1) formats: MXFP4 (OCP MX: 32 elements, E8M0 shared exponent) and NVFP4 (64
//! elements, a UE4M3 scale per 16). Both index E2M1 values doubled, `KV`, with the scale halved.

/// E2M1 values times two, indexed by the 4-bit code.
pub const KV: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

/// `2^(e − 128)` as ggml builds it (`ggml_e8m0_to_fp32_half`): f32 subnormals for `e < 2`;
/// `e = 255` is not NaN here.
#[inline(always)]
pub fn e8m0_half(e: u8) -> f32 {
    let bits = if e < 2 {
        0x0020_0000u32 << e
    } else {
        (u32::from(e) - 1) << 23
    };
    f32::from_bits(bits)
}

/// UE4M3 scale times ½ (gguf-py's `ue4m3_to_fp32`): bias 7, subnormals `m·2⁻⁹`; 0 and 0x7F
/// give 0.
#[inline(always)]
pub fn ue4m3_half(x: u8) -> f32 {
    if x == 0 || x == 0x7f {
        return 0.0;
    }
    let exp = i32::from((x >> 3) & 15);
    let man = f32::from(x & 7);
    let raw = if exp == 0 {
        man * (2f32).powi(-9)
    } else {
        (1.0 + man / 8.0) * (2f32).powi(exp - 7)
    };
    raw * 0.5
}

/// MXFP4: `e8: u8 @0`, `qs: u8[16] @1` (Q4 nibble order); `w = 2^(e−128)·KV[q]`.
pub(crate) fn dequant_mxfp4(b: &[u8], out: &mut [f32]) {
    let d = e8m0_half(b[0]);
    for j in 0..16 {
        out[j] = d * f32::from(KV[usize::from(b[1 + j] & 15)]);
        out[j + 16] = d * f32::from(KV[usize::from(b[1 + j] >> 4)]);
    }
}

/// NVFP4: `scales: ue4m3[4] @0`, then per 16-element sub-block 8 bytes: elements 0..8 the low
/// nibbles, 8..16 the high ones.
pub(crate) fn dequant_nvfp4(b: &[u8], out: &mut [f32]) {
    for s in 0..4 {
        let d = ue4m3_half(b[s]);
        let qs = &b[4 + 8 * s..12 + 8 * s];
        for j in 0..8 {
            out[16 * s + j] = d * f32::from(KV[usize::from(qs[j] & 15)]);
            out[16 * s + j + 8] = d * f32::from(KV[usize::from(qs[j] >> 4)]);
        }
    }
}

/// MXFP4 quantiser (gguf-py / ggml reference): shared exponent `floor(log2 amax) − 2 + 127`,
/// each element the nearest of `d·KV` (the first on ties).
pub(crate) fn quant_mxfp4(x: &[f32], out: &mut [u8]) {
    let amax = x.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
    // log2 rounded to f32 first, as log2f / numpy's float32 log2 give it.
    let e = if amax > 0.0 {
        ((f64::from(amax).log2() as f32).floor() - 2.0 + 127.0) as i32 as u8
    } else {
        0
    };
    out[0] = e;
    let d = e8m0_half(e);
    let best = |v: f32| -> u8 {
        let mut bi = 0;
        let mut be = f32::INFINITY;
        for (i, &k) in KV.iter().enumerate() {
            let err = (d * f32::from(k) - v).abs();
            if err < be {
                be = err;
                bi = i;
            }
        }
        bi as u8
    };
    for j in 0..16 {
        out[1 + j] = best(x[j]) | (best(x[j + 16]) << 4);
    }
}
