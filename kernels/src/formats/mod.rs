//! Weight formats: llama.cpp's GGUF block formats (byte for byte the layouts of gguf-py and
//! ggml), decoded bit-exactly, and the reference quantisers where a format has one.
//!
//! Every format decodes with products that are exact in f32 (`d·sc·q`, `d·kvalue`, …) and at
//! most one final add, so any f32 decoder in any order gives the same bits; f16 scales are
//! decoded exactly, subnormals included.
//!
//! One file per family: [`plain`] (F16, BF16), [`legacy`] (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1),
//! [`kquants`] (Q2_K … Q6_K), [`iq4`] (IQ4_NL, IQ4_XS), [`fp4`] (MXFP4, NVFP4),
//! [`ternary`] (TQ1_0, TQ2_0), [`int4`] (AWQ / GPTQ int4, converted to lowbit's `I4G*` layout), [`fp8`] (E4M3 / E5M2 with
//! a row or tensor scale, lowbit's `F8*` layouts).

pub mod fp4;
pub mod fp8;
pub mod int4;
pub mod iq4;
mod kquant_quant;
pub mod kquants;
pub mod legacy;
pub mod plain;
pub mod ternary;

use crate::KernelError;

/// A GGUF tensor type lowbit reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum QuantType {
    /// IEEE binary32 (no blocks).
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16.
    BF16,
    /// 32 × i8 with an f16 scale.
    Q8_0,
    /// 32 × 4 bit, offset 8, f16 scale.
    Q4_0,
    /// 32 × 4 bit with f16 scale and min.
    Q4_1,
    /// 32 × 5 bit, offset 16, f16 scale.
    Q5_0,
    /// 32 × 5 bit with f16 scale and min.
    Q5_1,
    /// 256 × 2 bit, 4-bit sub-block scales and mins.
    Q2_K,
    /// 256 × 3 bit, 6-bit signed sub-block scales.
    Q3_K,
    /// 256 × 4 bit, 6-bit sub-block scales and mins.
    Q4_K,
    /// 256 × 5 bit, 6-bit sub-block scales and mins.
    Q5_K,
    /// 256 × 6 bit, 8-bit sub-block scales.
    Q6_K,
    /// 32 × 4-bit indices into a non-linear table, f16 scale.
    IQ4_NL,
    /// 256 × 4-bit non-linear indices, 6-bit sub-block scales.
    IQ4_XS,
    /// 32 × FP4 (E2M1) with an E8M0 shared exponent (OCP MX).
    MXFP4,
    /// 64 × FP4 (E2M1) with a UE4M3 scale per 16.
    NVFP4,
    /// 256 ternary weights, base-3 packed (5 per byte), f16 scale.
    TQ1_0,
    /// 256 ternary weights, 2 bits each, f16 scale.
    TQ2_0,
    /// lowbit's internal int4 layout for AWQ/GPTQ weights, groups of 32: `d: f16`, zero `z: u8`,
    /// 16 bytes of nibbles in Q4_0's order (element `j < 16`: low nibble of byte `j`, `j + 16`:
    /// its high nibble; per 32 elements for the larger groups); `w = d·(q − z)`.
    /// Not a GGUF type.
    I4G32,
    /// As [`QuantType::I4G32`] with groups of 64.
    I4G64,
    /// As [`QuantType::I4G32`] with groups of 128.
    I4G128,
    /// lowbit's FP8 E4M3 layout: blocks of 32 codes after the row's f32 scale. Not a GGUF type.
    F8E4M3,
    /// lowbit's FP8 E5M2 layout, as [`QuantType::F8E4M3`].
    F8E5M2,
}

/// Every type, in ggml id order.
pub const ALL: [QuantType; 24] = [
    QuantType::F32,
    QuantType::F16,
    QuantType::Q4_0,
    QuantType::Q4_1,
    QuantType::Q5_0,
    QuantType::Q5_1,
    QuantType::Q8_0,
    QuantType::Q2_K,
    QuantType::Q3_K,
    QuantType::Q4_K,
    QuantType::Q5_K,
    QuantType::Q6_K,
    QuantType::IQ4_NL,
    QuantType::IQ4_XS,
    QuantType::BF16,
    QuantType::TQ1_0,
    QuantType::TQ2_0,
    QuantType::MXFP4,
    QuantType::NVFP4,
    QuantType::I4G32,
    QuantType::I4G64,
    QuantType::I4G128,
    QuantType::F8E4M3,
    QuantType::F8E5M2,
];

impl QuantType {
    /// `(ggml type id, elements per block, bytes per block, name)`.
    fn traits(self) -> (u32, usize, usize, &'static str) {
        use QuantType::*;
        match self {
            F32 => (0, 1, 4, "F32"),
            F16 => (1, 1, 2, "F16"),
            Q4_0 => (2, 32, 18, "Q4_0"),
            Q4_1 => (3, 32, 20, "Q4_1"),
            Q5_0 => (6, 32, 22, "Q5_0"),
            Q5_1 => (7, 32, 24, "Q5_1"),
            Q8_0 => (8, 32, 34, "Q8_0"),
            Q2_K => (10, 256, 84, "Q2_K"),
            Q3_K => (11, 256, 110, "Q3_K"),
            Q4_K => (12, 256, 144, "Q4_K"),
            Q5_K => (13, 256, 176, "Q5_K"),
            Q6_K => (14, 256, 210, "Q6_K"),
            IQ4_NL => (20, 32, 18, "IQ4_NL"),
            IQ4_XS => (23, 256, 136, "IQ4_XS"),
            BF16 => (30, 1, 2, "BF16"),
            TQ1_0 => (34, 256, 54, "TQ1_0"),
            TQ2_0 => (35, 256, 66, "TQ2_0"),
            MXFP4 => (39, 32, 17, "MXFP4"),
            NVFP4 => (40, 64, 36, "NVFP4"),
            // Ids outside ggml's range: never read from a GGUF file.
            I4G32 => (0x1_0032, 32, 19, "I4G32"),
            I4G64 => (0x1_0064, 64, 35, "I4G64"),
            I4G128 => (0x1_0128, 128, 67, "I4G128"),
            F8E4M3 => (0x1_0f43, 32, 36, "F8E4M3"),
            F8E5M2 => (0x1_0f52, 32, 36, "F8E5M2"),
        }
    }

    /// ggml's type id (as GGUF stores it).
    pub fn ggml_id(self) -> u32 {
        self.traits().0
    }

    /// The type with ggml id `id`, if lowbit reads it.
    pub fn from_ggml_id(id: u32) -> Option<Self> {
        ALL.into_iter().find(|t| t.is_gguf() && t.ggml_id() == id)
    }

    /// Whether GGUF files can hold the type (lowbit's `I4G*` layouts are internal).
    pub fn is_gguf(self) -> bool {
        self.ggml_id() < 0x1_0000
    }

    /// Elements per block.
    pub fn block_elems(self) -> usize {
        self.traits().1
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        self.traits().2
    }

    /// ggml's name (`Q4_K`, …).
    pub fn name(self) -> &'static str {
        self.traits().3
    }

    /// The type named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        ALL.into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// Bytes of a row of `k` elements; `k` must be a multiple of the block.
    pub fn row_bytes(self, k: usize) -> Result<usize, KernelError> {
        let b = self.block_elems();
        if !k.is_multiple_of(b) {
            return Err(KernelError::Shape(format!(
                "{}: a row of {k} elements is not a whole number of {b}-element blocks",
                self.name()
            )));
        }
        (k / b).checked_mul(self.block_bytes()).ok_or_else(|| {
            KernelError::Shape(format!("{}: a row of {k} elements overflows", self.name()))
        })
    }

    /// Whether [`quantize_row`] supports the type.
    pub fn has_quantizer(self) -> bool {
        use QuantType::*;
        matches!(
            self,
            F32 | F16
                | BF16
                | Q8_0
                | Q4_0
                | Q4_1
                | Q5_0
                | Q5_1
                | Q4_K
                | Q6_K
                | IQ4_NL
                | MXFP4
                | TQ1_0
                | TQ2_0
        )
    }
}

/// Checks that `bytes` holds whole blocks of `ty` for `out.len()` elements.
fn check_row(ty: QuantType, bytes: usize, elems: usize) -> Result<usize, KernelError> {
    let need = ty.row_bytes(elems)?;
    if bytes != need {
        return Err(KernelError::Shape(format!(
            "{}: {elems} elements take {need} bytes, got {bytes}",
            ty.name()
        )));
    }
    Ok(elems / ty.block_elems())
}

/// Decodes one row: `bytes` holds `out.len() / block_elems` blocks of `ty`, back to back.
pub fn dequantize_row(ty: QuantType, bytes: &[u8], out: &mut [f32]) -> Result<(), KernelError> {
    let blocks = check_row(ty, bytes.len(), out.len())?;
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    for i in 0..blocks {
        let src = &bytes[i * bb..(i + 1) * bb];
        let dst = &mut out[i * be..(i + 1) * be];
        decode_block(ty, src, dst);
    }
    Ok(())
}

/// Decodes one block: `src` is `block_bytes` long, `dst` `block_elems`.
pub fn dequantize_block(ty: QuantType, src: &[u8], dst: &mut [f32]) -> Result<(), KernelError> {
    if src.len() != ty.block_bytes() || dst.len() != ty.block_elems() {
        return Err(KernelError::Shape(format!(
            "{}: a block is {} bytes and {} elements, got {} and {}",
            ty.name(),
            ty.block_bytes(),
            ty.block_elems(),
            src.len(),
            dst.len()
        )));
    }
    decode_block(ty, src, dst);
    Ok(())
}

/// [`dequantize_block`] for callers that hold whole blocks.
pub(crate) fn decode_block(ty: QuantType, src: &[u8], dst: &mut [f32]) {
    use QuantType::*;
    match ty {
        F32 => dst[0] = f32::from_le_bytes([src[0], src[1], src[2], src[3]]),
        F16 => dst[0] = plain::f16_at(src, 0),
        BF16 => dst[0] = plain::bf16_at(src, 0),
        Q8_0 => legacy::dequant_q8_0(src, dst),
        Q4_0 => legacy::dequant_q4_0(src, dst),
        Q4_1 => legacy::dequant_q4_1(src, dst),
        Q5_0 => legacy::dequant_q5_0(src, dst),
        Q5_1 => legacy::dequant_q5_1(src, dst),
        Q2_K => kquants::dequant_q2_k(src, dst),
        Q3_K => kquants::dequant_q3_k(src, dst),
        Q4_K => kquants::dequant_q4_k(src, dst),
        Q5_K => kquants::dequant_q5_k(src, dst),
        Q6_K => kquants::dequant_q6_k(src, dst),
        IQ4_NL => iq4::dequant_iq4_nl(src, dst),
        IQ4_XS => iq4::dequant_iq4_xs(src, dst),
        MXFP4 => fp4::dequant_mxfp4(src, dst),
        NVFP4 => fp4::dequant_nvfp4(src, dst),
        TQ1_0 => ternary::dequant_tq1_0(src, dst),
        TQ2_0 => ternary::dequant_tq2_0(src, dst),
        I4G32 | I4G64 | I4G128 => int4::dequant_i4g(src, dst),
        F8E4M3 => fp8::dequant_fp8(fp8::Fp8::E4M3, src, dst),
        F8E5M2 => fp8::dequant_fp8(fp8::Fp8::E5M2, src, dst),
    }
}

/// Encodes one row with llama.cpp's reference quantiser for `ty` (same bytes as ggml's
/// `quantize_row_*_ref` and gguf-py's `quantize`). Errors for types without one here and for
/// lengths that are not whole blocks.
pub fn quantize_row(ty: QuantType, src: &[f32], out: &mut [u8]) -> Result<(), KernelError> {
    use QuantType::*;
    let blocks = check_row(ty, out.len(), src.len())?;
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    let quant: fn(&[f32], &mut [u8]) = match ty {
        F32 => |s, d| d.copy_from_slice(&s[0].to_le_bytes()),
        F16 => plain::quant_f16,
        BF16 => plain::quant_bf16,
        Q8_0 => legacy::quant_q8_0,
        Q4_0 => legacy::quant_q4_0,
        Q4_1 => legacy::quant_q4_1,
        Q5_0 => legacy::quant_q5_0,
        Q5_1 => legacy::quant_q5_1,
        MXFP4 => fp4::quant_mxfp4,
        TQ1_0 => ternary::quant_tq1_0,
        TQ2_0 => ternary::quant_tq2_0,
        Q4_K => kquant_quant::quant_q4_k,
        Q6_K => kquant_quant::quant_q6_k,
        IQ4_NL => {
            // ggml keeps the levels of the previous block for an all-zero one.
            let mut l = [0u8; 32];
            for i in 0..blocks {
                kquant_quant::quant_iq4_nl(
                    &src[i * be..(i + 1) * be],
                    &mut out[i * bb..(i + 1) * bb],
                    &mut l,
                );
            }
            return Ok(());
        }
        other => {
            return Err(KernelError::Shape(format!(
                "no reference quantiser for {} in lowbit yet",
                other.name()
            )))
        }
    };
    for i in 0..blocks {
        quant(&src[i * be..(i + 1) * be], &mut out[i * bb..(i + 1) * bb]);
    }
    Ok(())
}
