//! The WGSL sources and every variant lowbit composes from them.
//!
//! A variant = one kernel file + per-operand element snippets (dtype and f16 path decide how
//! elements are read) + `const` lines + `//#if` defines. [`catalog`] lists every variant the op
//! layer can ask for, so a naga test can parse and validate each one.

use std::collections::BTreeSet;

use lowbit_kernels::DType;

use crate::shader_text::{preprocess, substitute, unroll};

pub(crate) const GEMV: &str = include_str!("../shaders/gemv.wgsl");
pub(crate) const GEMM: &str = include_str!("../shaders/gemm.wgsl");
pub(crate) const INT8_GEMV: &str = include_str!("../shaders/int8_gemv.wgsl");
pub(crate) const INT8_GEMM: &str = include_str!("../shaders/int8_gemm.wgsl");
pub(crate) const PARAMS: &str = include_str!("../shaders/common/params.wgsl");
pub(crate) const INT8_COMMON: &str = include_str!("../shaders/common/int8.wgsl");
pub(crate) const STREAM_READ: &str = include_str!("../shaders/stream_read.wgsl");
const ELEM_F32: &str = include_str!("../shaders/common/elem_f32.wgsl");
const ELEM_F16: &str = include_str!("../shaders/common/elem_f16.wgsl");
const ELEM_F16_PACKED: &str = include_str!("../shaders/common/elem_f16_packed.wgsl");
const ELEM_BF16: &str = include_str!("../shaders/common/elem_bf16.wgsl");

/// How f16 operands are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum F16Path {
    /// `array<f16>` with `enable f16;` (needs shader-f16).
    Native,
    /// `array<u32>` opened with `unpack2x16float` (portable).
    Packed,
    /// `array<u32>` opened by integer operations, exactly (portable; chosen where
    /// `unpack2x16float` is slow: llvmpipe GL).
    Bits,
}

/// One composed shader variant.
#[derive(Clone, Debug)]
pub struct ShaderVariant {
    /// A unique name: kernel, dtypes and options.
    pub name: String,
    /// The complete WGSL text.
    pub source: String,
    /// The text uses `f16` (`enable f16;`).
    pub needs_f16: bool,
    /// The text uses subgroup operations.
    pub needs_subgroups: bool,
    /// The text uses `f64` (needs shader-f64).
    pub needs_f64: bool,
}

/// A kernel file plus what to compose around it.
pub(crate) struct Composer {
    pub name: String,
    /// Kernel text, in order (shared helpers first).
    pub body: Vec<&'static str>,
    pub consts: Vec<(&'static str, u32)>,
    pub defines: BTreeSet<&'static str>,
    /// (operand name, binding, dtype) for float operands read through element snippets.
    pub operands: Vec<(&'static str, u32, DType)>,
    pub f16: F16Path,
}

impl Composer {
    pub(crate) fn build(&self) -> ShaderVariant {
        let mut needs_f16 = false;
        let mut text = String::new();
        let mut snippets = String::new();
        for &(name, binding, dtype) in &self.operands {
            let snippet = match (dtype, self.f16) {
                (DType::F16, F16Path::Native) => {
                    needs_f16 = true;
                    ELEM_F16
                }
                (DType::F16, F16Path::Packed | F16Path::Bits) => ELEM_F16_PACKED,
                (DType::BF16, _) => ELEM_BF16,
                _ => ELEM_F32,
            };
            let s = substitute(
                snippet,
                &[("N", name.to_string()), ("B", binding.to_string())],
            );
            let mut defines = self.defines.clone();
            if self.f16 == F16Path::Bits {
                defines.insert("HALF_BITS");
            }
            snippets.push_str(&preprocess(&s, &defines));
        }
        if needs_f16 {
            text.push_str("enable f16;\n");
        }
        for (name, value) in &self.consts {
            text.push_str(&format!("const {name}: u32 = {value}u;\n"));
        }
        text.push_str(&snippets);
        for part in &self.body {
            // Our own text: a malformed directive is a bug the catalog test (every variant
            // composed and validated) meets first.
            let part = unroll(&preprocess(part, &self.defines), &self.consts)
                .unwrap_or_else(|e| panic!("shader {}: {e}", self.name));
            text.push_str(&part);
        }
        ShaderVariant {
            name: self.name.clone(),
            source: text,
            needs_f16,
            needs_subgroups: self.defines.contains("SUBGROUP"),
            needs_f64: false,
        }
    }
}

/// Every shader variant lowbit can compose, for offline validation.
pub fn catalog() -> Vec<ShaderVariant> {
    let mut out = Vec::new();
    out.extend(crate::ops::matmul::all_shader_variants());
    out.extend(crate::ops::int8::all_shader_variants());
    out.extend(crate::bandwidth::all_shader_variants());
    out.extend(crate::ops::bessel::all_shader_variants());
    out.extend(crate::ops::quant::all_shader_variants());
    out.extend(crate::ops::lut::all_shader_variants());
    out.extend(crate::ops::lmul::all_shader_variants());
    out.extend(crate::ops::shift::all_shader_variants());
    out.extend(crate::ops::ternary::all_shader_variants());
    out.extend(crate::ops::bcq::all_shader_variants());
    out.extend(crate::ops::bias::all_shader_variants());
    out.extend(crate::probes::all_shader_variants());
    out.extend(crate::ceilings::all_shader_variants());
    out
}
