//! Safetensors checkpoints (the files AWQ, GPTQ and FP8 models ship in), memory-mapped. The
//! `safetensors` crate parses and checks the header before any tensor is touched: its length
//! against the file, the JSON, every tensor's dtype × shape against its byte range, and the
//! ranges contiguous and covering the data exactly — so a truncated or hostile file is an
//! `Err`, never a panic or a read outside the map. Typed reads check the dtype and copy the
//! little-endian values out (a mapped tensor need not be aligned for its element type).

use std::collections::BTreeMap;
use std::path::Path;

pub use ::safetensors::Dtype;
use half::{bf16, f16};

use crate::error::{Error, Result};
use crate::file_bytes::FileBytes;

fn err(msg: impl Into<String>) -> Error {
    Error::Safetensors(msg.into())
}

/// One tensor's header entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetensorsInfo {
    /// Element type.
    pub dtype: Dtype,
    /// Dimensions, outermost first (`[N, K]` for a linear layer's weight).
    pub shape: Vec<usize>,
    /// Byte range in the file (checked against the file's length when it was opened).
    range: (usize, usize),
}

impl SafetensorsInfo {
    /// Number of elements (the product of the dimensions; 1 for a scalar).
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A parsed safetensors file.
pub struct SafetensorsFile {
    bytes: FileBytes,
    tensors: BTreeMap<String, SafetensorsInfo>,
    metadata: BTreeMap<String, String>,
}

impl SafetensorsFile {
    /// Maps and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::parse(FileBytes::map(path.as_ref()).map_err(err)?)
    }

    /// Parses a safetensors image held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Self::parse(FileBytes::Owned(bytes))
    }

    fn data(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    fn parse(bytes: FileBytes) -> Result<Self> {
        let buf = bytes.as_slice();
        let (header, meta) = ::safetensors::SafeTensors::read_metadata(buf)
            .map_err(|e| err(format!("invalid file: {e}")))?;
        // Data offsets are relative to the end of the 8-byte length and the header.
        let base = 8 + header;
        let tensors = meta
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (a, b) = info.data_offsets;
                let range = (base + a, base + b);
                debug_assert!(range.1 <= buf.len());
                let info = SafetensorsInfo {
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    range,
                };
                (name, info)
            })
            .collect();
        let metadata = meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(Self {
            bytes,
            tensors,
            metadata,
        })
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The header's `__metadata__` strings (empty when it has none).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Whether the file holds a tensor `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The header entry of `name`, or an error naming the missing tensor.
    pub fn info(&self, name: &str) -> Result<&SafetensorsInfo> {
        self.tensors
            .get(name)
            .ok_or_else(|| err(format!("no tensor named {name:?}")))
    }

    /// The raw little-endian bytes of `name` with its header entry.
    pub fn bytes(&self, name: &str) -> Result<(&SafetensorsInfo, &[u8])> {
        let info = self.info(name)?;
        Ok((info, &self.data()[info.range.0..info.range.1]))
    }

    /// The bytes of `name`, which must have dtype `want`.
    fn typed(&self, name: &str, want: &[Dtype]) -> Result<(&SafetensorsInfo, &[u8])> {
        let (info, b) = self.bytes(name)?;
        if !want.contains(&info.dtype) {
            return Err(err(format!(
                "tensor {name:?} is {:?}, expected {}",
                info.dtype,
                want.iter()
                    .map(|d| format!("{d:?}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        Ok((info, b))
    }

    /// An `I32` tensor's values.
    pub fn read_i32(&self, name: &str) -> Result<Vec<i32>> {
        let (_, b) = self.typed(name, &[Dtype::I32])?;
        Ok(b.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// An `F16` tensor's values.
    pub fn read_f16(&self, name: &str) -> Result<Vec<f16>> {
        let (_, b) = self.typed(name, &[Dtype::F16])?;
        Ok(b.chunks_exact(2)
            .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
            .collect())
    }

    /// An `F32`, `F16` or `BF16` tensor's values as f32 (the 16-bit ones convert exactly).
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>> {
        let (info, b) = self.typed(name, &[Dtype::F32, Dtype::F16, Dtype::BF16])?;
        let h = |c: &[u8]| u16::from_le_bytes([c[0], c[1]]);
        Ok(match info.dtype {
            Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => b
                .chunks_exact(2)
                .map(|c| f16::from_bits(h(c)).to_f32())
                .collect(),
            _ => b
                .chunks_exact(2)
                .map(|c| bf16::from_bits(h(c)).to_f32())
                .collect(),
        })
    }
}

impl std::fmt::Debug for SafetensorsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SafetensorsFile({} tensors)", self.tensors.len())
    }
}
