//! GGUF files (llama.cpp's model format), versions 2 and 3, memory-mapped.
//!
//! [`GgufFile::open`] parses the header, every metadata value and every tensor info, and
//! checks every count, size and offset against the file length before anything depends on
//! it: a truncated or hostile file is an [`Error::Gguf`](crate::Error::Gguf) naming what is
//! wrong, never a panic, a huge allocation or a read outside the map. Tensor data is then a
//! borrowed slice of the map.

mod reader;

use std::collections::HashMap;
use std::path::Path;

use lowbit_kernels::formats::QuantType;

use crate::error::Result;
use crate::file_bytes::FileBytes;
use reader::{err, Cursor};

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `u8`.
    U8(u8),
    /// `i8`.
    I8(i8),
    /// `u16`.
    U16(u16),
    /// `i16`.
    I16(i16),
    /// `u32`.
    U32(u32),
    /// `i32`.
    I32(i32),
    /// `f32`.
    F32(f32),
    /// `bool`.
    Bool(bool),
    /// UTF-8 string.
    String(String),
    /// Array of values of one type.
    Array(Vec<Value>),
    /// `u64`.
    U64(u64),
    /// `i64`.
    I64(i64),
    /// `f64`.
    F64(f64),
}

impl Value {
    /// The value as an unsigned integer, if it is one (of any width) and non-negative.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an array, if it is one.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// One tensor's description.
#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// Name (`blk.0.attn_q.weight`).
    pub name: String,
    /// Dimensions as GGUF lists them: `ne0` (contiguous) first.
    pub dims: Vec<u64>,
    /// Element format.
    pub ty: QuantType,
    /// Byte offset of the data within the file.
    pub offset: usize,
    /// Byte length of the data.
    pub size: usize,
}

impl TensorInfo {
    /// `(rows, row length)`: the product of the outer dims and `ne0`.
    pub fn rows_cols(&self) -> (usize, usize) {
        let k = self.dims.first().copied().unwrap_or(1) as usize;
        let n = self.dims.iter().skip(1).product::<u64>() as usize;
        (n, k)
    }
}

/// A parsed GGUF file.
pub struct GgufFile {
    bytes: FileBytes,
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata in file order.
    pub metadata: Vec<(String, Value)>,
    /// Tensor infos in file order.
    pub tensors: Vec<TensorInfo>,
    /// Data alignment (`general.alignment`, default 32).
    pub alignment: usize,
    by_name: HashMap<String, usize>,
}

/// Largest number of dimensions ggml tensors have.
const MAX_DIMS: u32 = 4;

impl GgufFile {
    /// Maps and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::parse(FileBytes::map(path.as_ref()).map_err(err)?)
    }

    /// Parses a GGUF image held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        Self::parse(FileBytes::Owned(bytes))
    }

    fn data(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    fn parse(bytes: FileBytes) -> Result<Self> {
        let buf = bytes.as_slice();
        let mut c = Cursor::new(buf);
        if c.take(4, "magic")? != b"GGUF" {
            return Err(err("not a GGUF file (magic is not \"GGUF\")"));
        }
        let version = c.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(err(format!(
                "GGUF version {version} is not supported (2 and 3 are)"
            )));
        }
        // A tensor info is at least 8 + 4 + 8 + 4 + 8 bytes, a metadata entry 8 + 4 + 1.
        let n_tensors = c.count(32, "tensor count")?;
        let n_kv = c.count(13, "metadata count")?;
        let mut metadata = Vec::with_capacity(n_kv);
        for i in 0..n_kv {
            let key = c.string(&format!("metadata key #{i}"))?;
            let ty = c.u32(&format!("type of '{key}'"))?;
            let value = c.value(ty, &format!("metadata '{key}'"), 0)?;
            metadata.push((key, value));
        }
        let alignment = match metadata.iter().find(|(k, _)| k == "general.alignment") {
            None => 32,
            Some((_, v)) => match v.as_u64() {
                Some(a) if a > 0 && a.is_power_of_two() && a <= 1 << 20 => a as usize,
                _ => {
                    return Err(err(format!(
                        "general.alignment {v:?} is not a power of two"
                    )))
                }
            },
        };
        let mut raw = Vec::with_capacity(n_tensors);
        for i in 0..n_tensors {
            let name = c.string(&format!("name of tensor #{i}"))?;
            let n_dims = c.u32(&format!("dims of '{name}'"))?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(err(format!(
                    "'{name}' has {n_dims} dims (1 to {MAX_DIMS} allowed)"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                let d = c.u64(&format!("dims of '{name}'"))?;
                // ggml's dims are positive int64s.
                if d == 0 || d > i64::MAX as u64 {
                    return Err(err(format!("'{name}' has dimension {d}")));
                }
                dims.push(d);
            }
            let ty_id = c.u32(&format!("type of '{name}'"))?;
            let ty = QuantType::from_ggml_id(ty_id)
                .ok_or_else(|| err(format!("'{name}' has unknown ggml type {ty_id}")))?;
            let offset = c.u64(&format!("offset of '{name}'"))?;
            raw.push((name, dims, ty, offset));
        }
        let data_start = c.pos().div_ceil(alignment) * alignment;
        let file_len = buf.len();
        let mut tensors = Vec::with_capacity(raw.len());
        let mut by_name = HashMap::with_capacity(raw.len());
        for (name, dims, ty, offset) in raw {
            let size = tensor_bytes(&name, &dims, ty)?;
            if !offset.is_multiple_of(alignment as u64) {
                return Err(err(format!(
                    "'{name}' offset {offset} is not {alignment}-aligned"
                )));
            }
            let start = (data_start as u64).checked_add(offset);
            let end = start.and_then(|s| s.checked_add(size));
            match (start, end) {
                (Some(s), Some(e)) if e <= file_len as u64 => {
                    if by_name.insert(name.clone(), tensors.len()).is_some() {
                        return Err(err(format!("tensor '{name}' appears twice")));
                    }
                    tensors.push(TensorInfo {
                        name,
                        dims,
                        ty,
                        offset: s as usize,
                        size: size as usize,
                    });
                    let _ = e;
                }
                _ => {
                    return Err(err(format!(
                        "'{name}' data ({size} bytes at data offset {offset}) runs past the end of the {file_len}-byte file"
                    )))
                }
            }
        }
        Ok(GgufFile {
            bytes,
            version,
            metadata,
            tensors,
            alignment,
            by_name,
        })
    }

    /// The metadata value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.by_name.get(name).map(|&i| &self.tensors[i])
    }

    /// The bytes of `info`'s data (this file's infos are checked at parse time to lie inside
    /// it; an info from elsewhere, or edited, that does not is an error).
    pub fn tensor_data(&self, info: &TensorInfo) -> Result<&[u8]> {
        info.offset
            .checked_add(info.size)
            .and_then(|end| self.data().get(info.offset..end))
            .ok_or_else(|| {
                err(format!(
                    "'{}': {} bytes at offset {} lie outside the file's {} bytes",
                    info.name,
                    info.size,
                    info.offset,
                    self.data().len()
                ))
            })
    }

    /// The tensor named `name` with its bytes, or an error naming it.
    pub fn tensor_with_data(&self, name: &str) -> Result<(&TensorInfo, &[u8])> {
        let info = self
            .tensor(name)
            .ok_or_else(|| err(format!("no tensor named '{name}'")))?;
        Ok((info, self.tensor_data(info)?))
    }
}

/// Byte size of a tensor, with every multiplication checked.
fn tensor_bytes(name: &str, dims: &[u64], ty: QuantType) -> Result<u64> {
    let overflow = || err(format!("'{name}' dims {dims:?} overflow"));
    let k = dims[0];
    let block = ty.block_elems() as u64;
    if !k.is_multiple_of(block) {
        return Err(err(format!(
            "'{name}': ne0 = {k} is not a multiple of {}'s {block}-element block",
            ty.name()
        )));
    }
    let mut size = (k / block)
        .checked_mul(ty.block_bytes() as u64)
        .ok_or_else(overflow)?;
    for &d in &dims[1..] {
        size = size.checked_mul(d).ok_or_else(overflow)?;
    }
    Ok(size)
}
