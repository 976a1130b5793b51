//! `Tensor` (owned, on a context) and `TensorView` (borrowed: a lowbit tensor or an engine's own
//! `wgpu::Buffer`). Lengths, shapes and dtypes are checked when a tensor is made and when an op
//! takes it.

use half::{bf16, f16};
use lowbit_kernels::DType;

use crate::context::{Backend, Context};
use crate::error::{Error, Result};

/// Host element types a tensor can be made from and downloaded to.
pub trait Element: bytemuck::Pod + Send + Sync {
    /// The dtype this element type stores.
    const DTYPE: DType;
    #[doc(hidden)]
    fn into_host(v: Vec<Self>) -> HostData;
    #[doc(hidden)]
    fn from_host(h: &HostData) -> Option<&[Self]>;
}

/// Host storage of the CPU backend, one vector per dtype.
#[derive(Clone, Debug)]
#[doc(hidden)]
pub enum HostData {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    I8(Vec<i8>),
    I32(Vec<i32>),
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn into_host(v: Vec<Self>) -> HostData {
                HostData::$d(v)
            }
            fn from_host(h: &HostData) -> Option<&[Self]> {
                match h {
                    HostData::$d(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
element!(f32, F32);
element!(f16, F16);
element!(bf16, BF16);
element!(i8, I8);
element!(i32, I32);

impl HostData {
    fn zeros(dtype: DType, len: usize) -> Self {
        match dtype {
            DType::F32 => HostData::F32(vec![0.0; len]),
            DType::F16 => HostData::F16(vec![f16::ZERO; len]),
            DType::BF16 => HostData::BF16(vec![bf16::ZERO; len]),
            DType::I8 => HostData::I8(vec![0; len]),
            DType::I32 => HostData::I32(vec![0; len]),
        }
    }
}

pub(crate) enum Storage {
    Gpu(wgpu::Buffer),
    Host(HostData),
}

/// A dense row-major tensor on one context.
pub struct Tensor {
    ctx: Context,
    dtype: DType,
    shape: Vec<usize>,
    pub(crate) storage: Storage,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor({} {:?} on {:?})",
            self.dtype, self.shape, self.ctx
        )
    }
}

/// Element count of a shape, refusing empty or overflowing shapes.
pub(crate) fn element_count(shape: &[usize]) -> Result<usize> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(Error::Shape(format!(
            "shape {shape:?} has no elements; every dimension must be at least 1"
        )));
    }
    // Every dtype's bytes (at most 8 per element) must fit a Rust allocation, so that no size
    // computed from the count wraps.
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| Error::Shape(format!("shape {shape:?} overflows")))
}

/// Bytes of `len` elements of `dtype`.
pub(crate) fn byte_len(dtype: DType, len: usize) -> u64 {
    (len * dtype.size_bytes()) as u64
}

impl Tensor {
    /// Uploads `data` with `shape`; `data.len()` must equal the product of `shape`.
    pub fn from_slice<T: Element>(ctx: &Context, data: &[T], shape: &[usize]) -> Result<Self> {
        let len = element_count(shape)?;
        if data.len() != len {
            return Err(Error::Shape(format!(
                "{} elements given for shape {shape:?}, which holds {len}",
                data.len()
            )));
        }
        let storage = match &*ctx.inner {
            Backend::Gpu(g) => Storage::Gpu(g.upload(bytemuck::cast_slice(data), "tensor")?),
            Backend::Cpu(_) => Storage::Host(T::into_host(data.to_vec())),
        };
        Ok(Tensor {
            ctx: ctx.clone(),
            dtype: T::DTYPE,
            shape: shape.to_vec(),
            storage,
        })
    }

    /// A zero-filled tensor (GPU buffers are zeroed by wgpu on creation).
    pub fn zeros(ctx: &Context, dtype: DType, shape: &[usize]) -> Result<Self> {
        let len = element_count(shape)?;
        let storage = match &*ctx.inner {
            Backend::Gpu(g) => Storage::Gpu(g.alloc(byte_len(dtype, len), "tensor")?),
            Backend::Cpu(_) => Storage::Host(HostData::zeros(dtype, len)),
        };
        Ok(Tensor {
            ctx: ctx.clone(),
            dtype,
            shape: shape.to_vec(),
            storage,
        })
    }

    pub(crate) fn from_host(ctx: &Context, data: HostData, dtype: DType, shape: &[usize]) -> Self {
        Tensor {
            ctx: ctx.clone(),
            dtype,
            shape: shape.to_vec(),
            storage: Storage::Host(data),
        }
    }

    pub(crate) fn from_buffer(
        ctx: &Context,
        buffer: wgpu::Buffer,
        dtype: DType,
        shape: &[usize],
    ) -> Self {
        Tensor {
            ctx: ctx.clone(),
            dtype,
            shape: shape.to_vec(),
            storage: Storage::Gpu(buffer),
        }
    }

    /// Downloads the elements; `T` must match the tensor's dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype {
            return Err(Error::Shape(format!(
                "to_vec::<{}>() on a {} tensor",
                T::DTYPE,
                self.dtype
            )));
        }
        match &self.storage {
            Storage::Host(h) => Ok(T::from_host(h).expect("host data matches dtype").to_vec()),
            Storage::Gpu(buf) => {
                let g = self.ctx.gpu().expect("GPU storage lives on a GPU context");
                let bytes = g.download(buf, 0, byte_len(self.dtype, self.len()))?;
                Ok(bytemuck::pod_collect_to_vec(&bytes))
            }
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: tensors have at least one element.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The context the tensor lives on.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The GPU buffer, for engines that bind it themselves (`None` on the CPU backend).
    pub fn buffer(&self) -> Option<&wgpu::Buffer> {
        match &self.storage {
            Storage::Gpu(b) => Some(b),
            Storage::Host(_) => None,
        }
    }

    /// A borrowed view for the ops.
    pub fn view(&self) -> TensorView<'_> {
        TensorView {
            dtype: self.dtype,
            shape: self.shape.clone(),
            data: match &self.storage {
                Storage::Gpu(b) => ViewData::Gpu {
                    buffer: b,
                    offset: 0,
                },
                Storage::Host(h) => ViewData::Host(h),
            },
            ctx: Some(&self.ctx),
        }
    }
}

pub(crate) enum ViewData<'a> {
    Gpu {
        buffer: &'a wgpu::Buffer,
        offset: u64,
    },
    Host(&'a HostData),
}

/// A borrowed tensor: a lowbit [`Tensor`], or a region of a `wgpu::Buffer` an engine owns.
pub struct TensorView<'a> {
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: ViewData<'a>,
    /// `None` for an engine buffer: its device is the caller's promise (wgpu validates it).
    pub(crate) ctx: Option<&'a Context>,
}

impl<'a> TensorView<'a> {
    /// Views `shape` elements of `dtype` at byte `offset` of an engine's buffer. The buffer needs
    /// `STORAGE` usage (and `COPY_SRC` to be read back by lowbit); `offset` must be a multiple of
    /// the device's `min_storage_buffer_offset_alignment` (checked when an op binds it).
    pub fn from_buffer(
        buffer: &'a wgpu::Buffer,
        offset: u64,
        dtype: DType,
        shape: &[usize],
    ) -> Result<Self> {
        let len = element_count(shape)?;
        let need = offset.checked_add(byte_len(dtype, len));
        if need.is_none_or(|need| need > buffer.size()) {
            let need = need.map_or("more than 2^64".to_string(), |n| n.to_string());
            return Err(Error::Shape(format!(
                "a {dtype} view of shape {shape:?} at offset {offset} needs {need} bytes; the buffer has {}",
                buffer.size()
            )));
        }
        if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
            return Err(Error::InvalidArgument(
                "the buffer lacks STORAGE usage".into(),
            ));
        }
        Ok(TensorView {
            dtype,
            shape: shape.to_vec(),
            data: ViewData::Gpu { buffer, offset },
            ctx: None,
        })
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

impl<'a> From<&'a Tensor> for TensorView<'a> {
    fn from(t: &'a Tensor) -> Self {
        t.view()
    }
}
