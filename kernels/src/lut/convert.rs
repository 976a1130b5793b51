//! Converters into [`LutWeights`], exact or refused: every converted weight `s·(u − z)` is
//! compared with the source format's own decoder, and a conversion that would change any
//! value is an `Err` naming the first one.
//!
//! * GGUF Q4_0 (4 bits, group 32, `z = 8`), lowbit's AWQ/GPTQ `I4G32/64/128` (4 bits, their
//!   zero points), TQ1_0 and TQ2_0 (2 planes, group 256, `z = 1`), Q2_K (2 bits, group 16,
//!   `s = d·sc`) where its sub-block minimums are zero or land exactly on `s·z`;
//! * BitNet b1.58 ternary values with one scale ([`from_ternary`]) or a scale per group
//!   (Tequila, [`from_ternary_groups`]) — `crate::ternary` makes them;
//! * integer codes with scales and zero points, GPTQ/AWQ style: [`LutWeights::from_codes`].

use super::layout::LutWeights;
use crate::formats::plain::f16_at;
use crate::formats::ternary::trit;
use crate::formats::{decode_block, QuantType};
use crate::KernelError;

/// Codes and per-group `(s, z)` of one block of a convertible format.
struct BlockCodes {
    codes: Vec<u8>,
    sz: Vec<(f32, f32)>,
}

/// `(bits, group)` of the formats [`from_quant`] converts.
pub fn lut_shape_of(ty: QuantType) -> Option<(u32, usize)> {
    Some(match ty {
        QuantType::Q4_0 => (4, 32),
        QuantType::I4G32 => (4, 32),
        QuantType::I4G64 => (4, 64),
        QuantType::I4G128 => (4, 128),
        QuantType::TQ1_0 | QuantType::TQ2_0 => (2, 256),
        QuantType::Q2_K => (2, 16),
        _ => return None,
    })
}

fn block_codes(ty: QuantType, b: &[u8]) -> BlockCodes {
    let nib = |at: usize, j: usize| -> u8 {
        // Q4_0 order per 32: element i < 16 low nibble of byte i, i ≥ 16 high of byte i − 16.
        let byte = b[at + 16 * (j / 32) + j % 16];
        if j % 32 < 16 {
            byte & 15
        } else {
            byte >> 4
        }
    };
    match ty {
        QuantType::Q4_0 => BlockCodes {
            codes: (0..32).map(|j| nib(2, j)).collect(),
            sz: vec![(f16_at(b, 0), 8.0)],
        },
        QuantType::I4G32 | QuantType::I4G64 | QuantType::I4G128 => BlockCodes {
            codes: (0..ty.block_elems()).map(|j| nib(3, j)).collect(),
            sz: vec![(f16_at(b, 0), f32::from(b[2]))],
        },
        QuantType::TQ2_0 => BlockCodes {
            codes: (0..256)
                .map(|e| (b[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3)
                .collect(),
            sz: vec![(f16_at(b, 64), 1.0)],
        },
        QuantType::TQ1_0 => {
            let mut codes = vec![0u8; 256];
            for p in 0..5u32 {
                for l in 0..32 {
                    codes[32 * p as usize + l] = trit(b[l], p);
                }
                for l in 0..16 {
                    codes[160 + 16 * p as usize + l] = trit(b[32 + l], p);
                }
            }
            for p in 0..4u32 {
                for l in 0..4 {
                    codes[240 + 4 * p as usize + l] = trit(b[48 + l], p);
                }
            }
            BlockCodes {
                codes,
                sz: vec![(f16_at(b, 52), 1.0)],
            }
        }
        QuantType::Q2_K => {
            let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
            let codes = (0..256)
                .map(|e| (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3)
                .collect();
            let sz = (0..16)
                .map(|j| {
                    let (s, ml) = (d * f32::from(b[j] & 15), dmin * f32::from(b[j] >> 4));
                    (s, if ml == 0.0 { 0.0 } else { ml / s })
                })
                .collect();
            BlockCodes { codes, sz }
        }
        _ => unreachable!("lut_shape_of() lists the converted formats"),
    }
}

/// Converts `[n, k]` weights in `ty` (GGUF row bytes, `n · row_bytes(k)` of them).
pub fn from_quant(
    ty: QuantType,
    n: usize,
    k: usize,
    bytes: &[u8],
) -> Result<LutWeights, KernelError> {
    let (bits, group) = lut_shape_of(ty).ok_or_else(|| {
        KernelError::Shape(format!(
            "{} has no exact LUT form (Q4_0, Q2_K, TQ1_0, TQ2_0 and I4G* do)",
            ty.name()
        ))
    })?;
    let row = ty.row_bytes(k)?;
    if n == 0 || bytes.len() != n * row {
        return Err(KernelError::Shape(format!(
            "{} [{n}, {k}] takes {} bytes, got {}",
            ty.name(),
            n * row,
            bytes.len()
        )));
    }
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    let groups = k / group;
    let mut codes = vec![0u8; n * k];
    let (mut scales, mut zeros) = (vec![0f32; n * groups], vec![0f32; n * groups]);
    let mut want = vec![0f32; be];
    for (blk, src) in bytes.chunks_exact(bb).enumerate() {
        let (r, c0) = (blk / (k / be), (blk % (k / be)) * be);
        let bc = block_codes(ty, src);
        decode_block(ty, src, &mut want);
        for (j, (&u, &v)) in bc.codes.iter().zip(&want).enumerate() {
            let (s, z) = bc.sz[j / group.min(be)];
            if s * (f32::from(u) - z) != v {
                return Err(KernelError::Shape(format!(
                    "{} row {r}, column {}: {v} is not s·(u − z) for s = {s}, z = {z} \
                     (a sub-block minimum that is not a multiple of its scale)",
                    ty.name(),
                    c0 + j
                )));
            }
        }
        codes[r * k + c0..][..be].copy_from_slice(&bc.codes);
        for (gi, &(s, z)) in bc.sz.iter().enumerate() {
            let g = (c0 + gi * group.min(be)) / group;
            scales[r * groups + g] = s;
            zeros[r * groups + g] = z;
        }
    }
    LutWeights::from_codes(bits, n, k, group, &codes, &scales, Some(&zeros))
}

/// BitNet b1.58 weights: `values` `[n, k]` in {−1, 0, +1} and one scale for the tensor, as 2
/// planes (`u = v + 1`, `z = 1`, one scale per row).
pub fn from_ternary(
    n: usize,
    k: usize,
    values: &[i8],
    scale: f32,
) -> Result<LutWeights, KernelError> {
    // Checked before the scales are allocated.
    super::layout::check_shape(2, n, k, k)?;
    from_ternary_groups(n, k, k, values, &vec![scale; n])
}

/// Ternary weights with a scale per row and group of `group` along K (Tequila: 128), `scales`
/// `[n, k/group]`, as 2 planes.
pub fn from_ternary_groups(
    n: usize,
    k: usize,
    group: usize,
    values: &[i8],
    scales: &[f32],
) -> Result<LutWeights, KernelError> {
    if let Some(at) = values.iter().position(|v| !(-1..=1).contains(v)) {
        return Err(KernelError::Shape(format!(
            "ternary value {} at {at} is not -1, 0 or +1",
            values[at]
        )));
    }
    let codes: Vec<u8> = values.iter().map(|&v| (v + 1) as u8).collect();
    let ones = vec![1.0; scales.len()];
    LutWeights::from_codes(2, n, k, group, &codes, scales, Some(&ones))
}
