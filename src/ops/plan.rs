//! Checks and binding plans shared by the matmul ops: operand validation, context matching, and
//! splitting W over several bindings when it is larger than `max_storage_buffer_binding_size`.

use std::num::NonZeroU64;

use lowbit_kernels::DType;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::tensor::{byte_len, HostData, TensorView, ViewData};

/// The largest binding lowbit makes: the device limit, capped at 2 GiB so every element index
/// (also of 1-byte elements) fits the kernels' u32 arithmetic.
pub(crate) fn max_binding(g: &Gpu) -> u64 {
    g.limits.max_storage_buffer_binding_size.min(1 << 31)
}

/// `[rows, cols]` of a 2-D operand.
pub(crate) fn dims2(v: &TensorView, what: &str) -> Result<(usize, usize)> {
    match v.shape[..] {
        [r, c] => Ok((r, c)),
        _ => Err(Error::Shape(format!(
            "{what} must be 2-D, got shape {:?}",
            v.shape
        ))),
    }
}

/// Refuses a view that lives on another context or backend.
pub(crate) fn check_ctx(ctx: &Context, v: &TensorView, what: &str) -> Result<()> {
    if let Some(c) = v.ctx {
        if !c.same(ctx) {
            return Err(Error::ContextMismatch(format!(
                "{what} lives on {c:?}, the op runs on {ctx:?}"
            )));
        }
    }
    match (&v.data, ctx.is_gpu()) {
        (ViewData::Host(_), true) | (ViewData::Gpu { .. }, false) => Err(Error::ContextMismatch(
            format!("{what} is not stored on {ctx:?}"),
        )),
        _ => Ok(()),
    }
}

/// Refuses weights that live on another context than the op's.
pub(crate) fn check_w_ctx(ctx: &Context, w_ctx: &Context) -> Result<()> {
    if w_ctx.same(ctx) {
        Ok(())
    } else {
        Err(Error::ContextMismatch(format!(
            "W lives on {w_ctx:?}, the op runs on {ctx:?}"
        )))
    }
}

/// x `[M, K]` on `ctx` against a W `[n, k]` held on `w_ctx` (`w_kind` names W's format in the
/// message, with a trailing space, or is empty): returns M.
pub(crate) fn check_x_for_w(
    ctx: &Context,
    x: &TensorView,
    w_ctx: &Context,
    w_kind: std::fmt::Arguments<'_>,
    (n, k): (usize, usize),
) -> Result<usize> {
    check_ctx(ctx, x, "x")?;
    check_w_ctx(ctx, w_ctx)?;
    let (m, kx) = dims2(x, "x")?;
    if kx != k {
        return Err(Error::Shape(format!(
            "x is [{m}, {kx}] but W is {w_kind}[{n}, {k}]"
        )));
    }
    Ok(m)
}

/// A CPU view's f32 or f16 elements as f32: borrowed when f32, converted when f16; `None` for
/// other dtypes or a GPU view.
pub(crate) fn host_f32<'a>(v: &TensorView<'a>) -> Option<std::borrow::Cow<'a, [f32]>> {
    match v.data {
        ViewData::Host(HostData::F32(d)) => Some(std::borrow::Cow::Borrowed(d.as_slice())),
        ViewData::Host(HostData::F16(d)) => Some(d.iter().map(|h| h.to_f32()).collect()),
        _ => None,
    }
}

/// `(buffer, offset)` of a GPU view.
pub(crate) fn gpu_parts<'a>(v: &TensorView<'a>) -> (&'a wgpu::Buffer, u64) {
    match v.data {
        ViewData::Gpu { buffer, offset } => (buffer, offset),
        ViewData::Host(_) => unreachable!("checked by check_ctx"),
    }
}

/// A binding of `len` bytes at `offset`, checked against the device's alignment and size limits.
pub(crate) fn whole_binding<'a>(
    g: &Gpu,
    buffer: &'a wgpu::Buffer,
    offset: u64,
    len: u64,
    what: &str,
) -> Result<wgpu::BindingResource<'a>> {
    let align = g.limits.min_storage_buffer_offset_alignment as u64;
    if !offset.is_multiple_of(align) {
        return Err(Error::InvalidArgument(format!(
            "{what} starts at byte {offset}, not a multiple of the device's storage offset alignment {align}"
        )));
    }
    let size = (len.div_ceil(4) * 4).min(buffer.size() - offset);
    if size > max_binding(g) {
        return Err(Error::DeviceLimit(format!(
            "{what} needs a {size}-byte binding, over this device's max_storage_buffer_binding_size of {} bytes (lowbit binds at most 2 GiB: kernels index with u32)",
            g.limits.max_storage_buffer_binding_size
        )));
    }
    Ok(wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer,
        offset,
        size: NonZeroU64::new(size),
    }))
}

/// Checks a vector operand (a bias, token scales): on `ctx`, f32, `len` values.
pub(crate) fn check_f32_vector(
    ctx: &Context,
    v: &TensorView,
    op: &str,
    what: &str,
    len: usize,
) -> Result<()> {
    check_ctx(ctx, v, what)?;
    if v.dtype != DType::F32 || v.shape.iter().product::<usize>() != len {
        return Err(Error::Shape(format!(
            "{op}: {what} must be f32 with {len} values, got {} {:?}",
            v.dtype, v.shape
        )));
    }
    Ok(())
}

/// The binding of an optional f32 vector of `len` values, or, when there is none, of a 4-byte
/// buffer made into `zero` (the shaders read it only when told it is there).
pub(crate) fn optional_binding<'a>(
    g: &Gpu,
    v: Option<&'a TensorView>,
    zero: &'a mut Option<wgpu::Buffer>,
    len: usize,
    what: &str,
) -> Result<wgpu::BindingResource<'a>> {
    match v {
        Some(v) => {
            let (b, o) = gpu_parts(v);
            whole_binding(g, b, o, 4 * len as u64, what)
        }
        None => {
            let z = zero.insert(g.upload(&[0u8; 4], what)?);
            whole_binding(g, z, 0, 4, what)
        }
    }
}

/// One slice of W's rows bound on its own.
pub(crate) struct WChunk<'a> {
    pub binding: wgpu::BindingResource<'a>,
    /// First row of the chunk.
    pub row0: usize,
    /// Rows in the chunk.
    pub rows: usize,
    /// Element offset of `row0` inside the binding.
    pub elem_off: u32,
}

/// Splits W (`n` rows of `k` elements) into bindings that each fit the device's binding limit.
/// Each binding starts at an aligned byte offset at or before its first row; the row's element
/// offset inside the binding is passed to the kernel.
pub(crate) fn w_chunks<'a>(
    g: &Gpu,
    w: &TensorView<'a>,
    n: usize,
    k: usize,
) -> Result<Vec<WChunk<'a>>> {
    let (buffer, offset) = gpu_parts(w);
    let es = w.dtype.size_bytes() as u64;
    let align = g.limits.min_storage_buffer_offset_alignment as u64;
    if !offset.is_multiple_of(align) {
        return Err(Error::InvalidArgument(format!(
            "w starts at byte {offset}, not a multiple of the device's storage offset alignment {align}"
        )));
    }
    let max = max_binding(g);
    let row_bytes = k as u64 * es;
    // Leave room for the alignment slack in front of a chunk's first row.
    let rows_per = ((max.saturating_sub(align)) / row_bytes) as usize;
    if rows_per == 0 {
        return Err(Error::DeviceLimit(format!(
            "one row of w ({row_bytes} bytes) does not fit this device's max_storage_buffer_binding_size of {max} bytes"
        )));
    }
    let mut out = Vec::new();
    let mut row0 = 0;
    while row0 < n {
        let rows = rows_per.min(n - row0);
        let start = offset + row0 as u64 * row_bytes;
        let base = start / align * align;
        let end = start + rows as u64 * row_bytes;
        let size = (end - base).div_ceil(4) * 4;
        let size = size.min(buffer.size() - base);
        let elem_off = (start - base) / es;
        out.push(WChunk {
            binding: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer,
                offset: base,
                size: NonZeroU64::new(size),
            }),
            row0,
            rows,
            elem_off: u32::try_from(elem_off).expect("below the alignment"),
        });
        row0 += rows;
    }
    Ok(out)
}

/// Bytes of a `[rows, cols]` operand of `dtype`.
pub(crate) fn mat_bytes(dtype: DType, rows: usize, cols: usize) -> u64 {
    byte_len(dtype, rows * cols)
}

/// Workgroup counts folded into a 2-D grid when one dimension would exceed the device limit.
pub(crate) fn fold_groups(g: &Gpu, groups: usize) -> Result<[u32; 3]> {
    let max = g.limits.max_compute_workgroups_per_dimension as usize;
    let gx = groups.min(max).max(1);
    let gy = groups.div_ceil(gx);
    if gy > max {
        return Err(Error::DeviceLimit(format!(
            "{groups} workgroups do not fit a {max} x {max} grid"
        )));
    }
    Ok([gx as u32, gy as u32, 1])
}

/// A u32 kernel parameter, refusing dimensions that do not fit.
pub(crate) fn u32_of(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::DeviceLimit(format!("{what} = {v} does not fit in u32")))
}

/// How a kernel covers the output.
#[derive(Clone, Copy)]
pub(crate) enum Grid {
    /// GEMV: one workgroup per `rows` rows of W, folded into 2-D.
    Gemv { rows: usize },
    /// Tiled GEMM: `bn` columns by `bm` rows of y per workgroup.
    Gemm { bn: usize, bm: usize },
}

/// K per dispatch of a tiled kernel on a loop-limited driver: a 4096-wide slice is 256 steps of
/// the K loop (with its inner loops, well under llvmpipe's 65535 back-edges). A multiple of 16,
/// so int8 slices start on whole words and float slices on whole tiles.
pub(crate) const LOOP_LIMITED_K_SLICE: usize = 4096;

/// Records one dispatch per W chunk and K slice (bindings: params, x, W chunk, y, then `extra`),
/// runs them in one pass and waits. The params uniform is the `Params` struct every matmul kernel
/// shares. `k_slice` cuts K into slices that add into y (tiled kernels on loop-limited drivers);
/// pass `k` for one slice. `bias`: the kernels add the bias binding in `extra` (flags bit 2).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_chunks(
    g: &Gpu,
    pipeline: &wgpu::ComputePipeline,
    chunks: &[WChunk<'_>],
    (m, n, k): (usize, usize, usize),
    grid: Grid,
    k_slice: usize,
    x: wgpu::BindingResource<'_>,
    y: wgpu::BindingResource<'_>,
    extra: &[wgpu::BindingResource<'_>],
    bias: bool,
    timer: Option<&crate::gpu::GpuTimer>,
) -> Result<()> {
    let mut params = Vec::new();
    let mut plan = Vec::new();
    for (ci, c) in chunks.iter().enumerate() {
        let groups = match grid {
            Grid::Gemv { rows } => fold_groups(g, c.rows.div_ceil(rows))?,
            Grid::Gemm { bn, bm } => [
                u32_of(c.rows.div_ceil(bn), "GEMM column tiles")?,
                u32_of(m.div_ceil(bm), "GEMM row tiles")?,
                1,
            ],
        };
        let slices = k.div_ceil(k_slice.max(1));
        for s in 0..slices {
            let (k_begin, k_end) = (s * k_slice, ((s + 1) * k_slice).min(k));
            let flags =
                u32::from(s > 0) | (u32::from(s + 1 == slices) << 1) | (u32::from(bias) << 2);
            params.push(g.uniform(&[
                u32_of(m, "M")?,
                u32_of(c.rows, "N")?,
                u32_of(k, "K")?,
                c.elem_off,
                groups[0],
                u32_of(c.row0, "N")?,
                u32_of(n, "N")?,
                flags,
                u32_of(k_begin, "K")?,
                u32_of(k_end, "K")?,
                0,
                0,
            ])?);
            plan.push((ci, groups));
        }
    }
    let dispatches: Vec<crate::gpu::Dispatch> = plan
        .iter()
        .zip(&params)
        .map(|(&(ci, groups), p)| {
            let mut bindings = vec![
                p.as_entire_binding(),
                x.clone(),
                chunks[ci].binding.clone(),
                y.clone(),
            ];
            bindings.extend(extra.iter().cloned());
            crate::gpu::Dispatch {
                pipeline,
                bindings,
                groups,
            }
        })
        .collect();
    g.run(&dispatches, timer)
}
