//! A bounds-checked cursor over the file bytes: every read names what it was reading when
//! the bytes run out, and counts are checked against what is left before anything is
//! allocated for them.

use super::Value;
use crate::error::{Error, Result};

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Array elements read so far.
    elements: usize,
}

/// Largest nesting of arrays accepted (GGUF files use one level).
const MAX_DEPTH: u32 = 4;

/// Most array elements the metadata may hold in all (a large vocabulary's token, score and
/// merge arrays take a few million): each element is a 32-byte `Value` in memory, so a file's
/// one-byte elements could otherwise ask for 32 times its size.
const MAX_ELEMENTS: usize = 1 << 26;

pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::Gguf(msg.into())
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor {
            bytes,
            pos: 0,
            elements: 0,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(err(format!(
                "truncated: {what} needs {n} bytes at offset {}, {} left",
                self.pos,
                self.left()
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        Ok(self.take(N, what)?.try_into().expect("length checked"))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count of items each at least `min_bytes` long: more than the rest of the file could
    /// hold is an error before anything is allocated.
    pub(crate) fn count(&mut self, min_bytes: usize, what: &str) -> Result<usize> {
        let n = self.u64(what)?;
        let fits = (self.left() / min_bytes.max(1)) as u64;
        if n > fits {
            return Err(err(format!(
                "{what} = {n} cannot fit in the {} bytes left at offset {}",
                self.left(),
                self.pos
            )));
        }
        Ok(n as usize)
    }

    pub(crate) fn string(&mut self, what: &str) -> Result<String> {
        let n = self.count(1, what)?;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| err(format!("{what} is not UTF-8")))
    }

    /// A value of GGUF type `ty`.
    pub(crate) fn value(&mut self, ty: u32, what: &str, depth: u32) -> Result<Value> {
        Ok(match ty {
            0 => Value::U8(self.array::<1>(what)?[0]),
            1 => Value::I8(self.array::<1>(what)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            3 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            4 => Value::U32(self.u32(what)?),
            5 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            6 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            7 => match self.array::<1>(what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(err(format!("{what}: bool byte {b} is neither 0 nor 1"))),
            },
            8 => Value::String(self.string(what)?),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err(err(format!(
                        "{what}: arrays nested deeper than {MAX_DEPTH}"
                    )));
                }
                let elem = self.u32(what)?;
                let min = match elem {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8 | 10..=12 => 8,
                    9 => 12,
                    t => return Err(err(format!("{what}: unknown array element type {t}"))),
                };
                let n = self.count(min, what)?;
                self.elements += n;
                if self.elements > MAX_ELEMENTS {
                    return Err(err(format!(
                        "{what}: the metadata's arrays hold more than {MAX_ELEMENTS} elements"
                    )));
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.value(elem, what, depth + 1)?);
                }
                Value::Array(v)
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            12 => Value::F64(f64::from_le_bytes(self.array(what)?)),
            t => return Err(err(format!("{what}: unknown value type {t}"))),
        })
    }
}
