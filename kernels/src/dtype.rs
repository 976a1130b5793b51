//! Element types and a borrowed float matrix of any of them.

use half::{bf16, f16};

use crate::KernelError;

/// Element types lowbit stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (the top half of an f32).
    BF16,
    /// Signed 8-bit integer.
    I8,
    /// Signed 32-bit integer.
    I32,
}

impl DType {
    /// Bytes per element.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::I8 => 1,
        }
    }

    /// Lower-case name: `f32`, `f16`, `bf16`, `i8`, `i32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I8 => "i8",
            DType::I32 => "i32",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = KernelError;

    fn from_str(s: &str) -> Result<Self, KernelError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "f32" => DType::F32,
            "f16" => DType::F16,
            "bf16" => DType::BF16,
            "i8" => DType::I8,
            "i32" => DType::I32,
            _ => {
                return Err(KernelError::Shape(format!(
                    "unknown dtype '{s}' (f32, f16, bf16, i8, i32)"
                )))
            }
        })
    }
}

/// A borrowed row-major float matrix in one of the float dtypes.
#[derive(Clone, Copy, Debug)]
pub enum MatRef<'a> {
    /// f32 elements.
    F32(&'a [f32]),
    /// f16 elements.
    F16(&'a [f16]),
    /// bf16 elements.
    BF16(&'a [bf16]),
}

impl MatRef<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            MatRef::F32(d) => d.len(),
            MatRef::F16(d) => d.len(),
            MatRef::BF16(d) => d.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        match self {
            MatRef::F32(_) => DType::F32,
            MatRef::F16(_) => DType::F16,
            MatRef::BF16(_) => DType::BF16,
        }
    }

    /// Element `i` widened to f32 (exact for every dtype).
    #[inline]
    pub fn get_f32(&self, i: usize) -> f32 {
        match self {
            MatRef::F32(d) => d[i],
            MatRef::F16(d) => d[i].to_f32(),
            MatRef::BF16(d) => d[i].to_f32(),
        }
    }

    /// Elements `start..start+out.len()` widened to f32.
    pub fn copy_f32(&self, start: usize, out: &mut [f32]) {
        let end = start + out.len();
        match self {
            MatRef::F32(d) => out.copy_from_slice(&d[start..end]),
            MatRef::F16(d) => {
                for (o, v) in out.iter_mut().zip(&d[start..end]) {
                    *o = v.to_f32();
                }
            }
            MatRef::BF16(d) => {
                for (o, v) in out.iter_mut().zip(&d[start..end]) {
                    *o = v.to_f32();
                }
            }
        }
    }
}
