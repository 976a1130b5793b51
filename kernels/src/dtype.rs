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

    /// Element `i` widened to f32 (exact for every dtype). Panics past the end, as slice
    /// indexing does (the kernels' inner loops index within checked shapes).
    #[inline]
    pub fn get_f32(&self, i: usize) -> f32 {
        match self {
            MatRef::F32(d) => d[i],
            MatRef::F16(d) => d[i].to_f32(),
            MatRef::BF16(d) => d[i].to_f32(),
        }
    }

    /// Elements `start..start+out.len()` widened to f32. Panics past the end, as slice
    /// indexing does.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_display() {
        for d in [DType::F32, DType::F16, DType::BF16, DType::I8, DType::I32] {
            assert_eq!(d.name().parse::<DType>().unwrap(), d);
            assert_eq!(d.name().to_uppercase().parse::<DType>().unwrap(), d);
            assert_eq!(d.to_string(), d.name());
        }
        assert!("f64".parse::<DType>().is_err());
        assert_eq!(DType::BF16.size_bytes(), 2);
        assert_eq!(DType::I8.size_bytes(), 1);
    }

    #[test]
    fn matref_widens_exactly() {
        let h = [f16::from_f32(0.333), f16::MAX];
        let b = [bf16::from_f32(-1.5e30)];
        assert_eq!(MatRef::F16(&h).get_f32(1), 65504.0);
        assert_eq!(MatRef::F16(&h).get_f32(0) as f64, h[0].to_f64());
        assert_eq!(
            MatRef::BF16(&b).get_f32(0).to_bits(),
            (b[0].to_bits() as u32) << 16
        );
        assert_eq!(MatRef::BF16(&b).dtype(), DType::BF16);
        assert_eq!(MatRef::F16(&h).len(), 2);
        let mut out = [0f32; 2];
        MatRef::F16(&h).copy_f32(0, &mut out);
        assert_eq!(out[1], 65504.0);
    }
}
