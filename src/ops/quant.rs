//! `quant_matmul`: `y = x · Wᵀ` with x f32 or f16 `[M, K]` and W a [`QuantMatrix`], f32 output.
//! GPU: `shaders/quant_gemv.wgsl` decodes W's blocks in registers (F16/BF16/F32 weights go to
//! the dense kernels), or the int8 route of `quant_q8` for the formats it has. CPU:
//! `lowbit_kernels::quant_matmul` (integer kernels for every integer-valued format on x86_64
//! with AVX2, exact decoders for FP8 and elsewhere).

use std::collections::BTreeSet;

use lowbit_kernels::formats::QuantType;
pub use lowbit_kernels::quant_matmul::QuantPath;
use lowbit_kernels::DType;

use super::plan::{
    check_f32_vector, check_x_for_w, fold_groups, gpu_parts, host_f32, mat_bytes, u32_of,
    whole_binding,
};
use super::quant_q8;
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::quant::{QuantData, QuantMatrix};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView};

const QUANT_GEMV: &str = include_str!("../../shaders/quant_gemv.wgsl");
/// What `quant_gemv.wgsl` and `quant_q8.wgsl` share, prepended to both: `Params` and
/// `f16_bits`.
pub(crate) const QUANT_COMMON: [&str; 2] = [
    include_str!("../../shaders/common/quant_params.wgsl"),
    include_str!("../../shaders/common/f16_bits.wgsl"),
];
const PERMUTE_COLS: &str = include_str!("../../shaders/permute_cols.wgsl");
/// Tokens per dispatch of the kernel.
const MT: usize = 4;

/// Block formats the GPU kernel decodes: every format but the plain ones (F32, F16, BF16),
/// which go to the dense kernels.
pub fn gpu_block_types() -> impl Iterator<Item = QuantType> {
    lowbit_kernels::formats::ALL
        .into_iter()
        .filter(|&t| plain_dtype(t).is_none())
}

fn plain_dtype(ty: QuantType) -> Option<DType> {
    match ty {
        QuantType::F32 => Some(DType::F32),
        QuantType::F16 => Some(DType::F16),
        QuantType::BF16 => Some(DType::BF16),
        _ => None,
    }
}

/// What a composed quant kernel does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuantKernel {
    /// The matmul (M ≤ 4 per dispatch).
    Matmul {
        /// x f16 (else f32).
        x_f16: bool,
        /// One token per dispatch (the decode case).
        one: bool,
        /// One row per invocation, 8 a workgroup (CPU-type adapters), else a workgroup a row.
        lane: bool,
    },
    /// The tiled GEMM for M > 4; `true`: x f16.
    Gemm(bool),
    /// Writes the decoded matrix.
    Dequant,
}

/// The composed kernel for a block format.
pub(crate) fn variant(ty: QuantType, kernel: QuantKernel) -> ShaderVariant {
    let fmt = format!("FMT_{}", ty.name());
    let mut defines: BTreeSet<&str> = BTreeSet::new();
    defines.insert(fmt.as_str());
    if matches!(ty, QuantType::I4G32 | QuantType::I4G64 | QuantType::I4G128) {
        defines.insert("FMT_I4G");
    }
    let tag;
    let tag = match kernel {
        QuantKernel::Matmul { x_f16, one, lane } => {
            for (on, d) in [(x_f16, "X_F16"), (one, "MT1"), (lane, "ROW_PER_LANE")] {
                if on {
                    defines.insert(d);
                }
            }
            tag = format!(
                "{}{}{}",
                if x_f16 { "xf16" } else { "xf32" },
                if one { ".m1" } else { "" },
                if lane { ".lane" } else { "" }
            );
            &tag
        }
        QuantKernel::Gemm(f16) => {
            defines.insert("GEMM");
            if f16 {
                defines.insert("X_F16");
                "gemm.xf16"
            } else {
                "gemm.xf32"
            }
        }
        QuantKernel::Dequant => {
            defines.insert("DEQUANT");
            "dequant"
        }
    };
    ShaderVariant {
        name: format!("quant_gemv.{}.{tag}", ty.name()),
        source: QUANT_COMMON.concat() + &preprocess(QUANT_GEMV, &defines),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every composed quant shader, for offline validation.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let permutes = [permute_variant(false), permute_variant(true)];
    gpu_block_types()
        .flat_map(|t| {
            let matmuls = (0..8).map(|i| QuantKernel::Matmul {
                x_f16: i & 1 != 0,
                one: i & 2 != 0,
                lane: i & 4 != 0,
            });
            matmuls
                .chain([
                    QuantKernel::Gemm(false),
                    QuantKernel::Gemm(true),
                    QuantKernel::Dequant,
                ])
                .map(move |k| variant(t, k))
        })
        .chain(permutes)
        .chain(quant_q8::all_shader_variants())
        .collect()
}

/// `y = x · Wᵀ`: x `[M, K]` f32 or f16 on `ctx`, W `[N, K]` quantized, y `[M, N]` f32, by
/// the path [`default_path`] picks for `ctx`.
pub fn quant_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &QuantMatrix,
) -> Result<Tensor> {
    quant_matmul_with(ctx, x, w, default_path(ctx))
}

/// The path [`quant_matmul`] takes on `ctx`: [`QuantPath::Int8`] where it was measured faster
/// than the exact decoders — the CPU backend, and CPU-type GPU adapters (lavapipe, llvmpipe
/// GL: `lowbit bench --w-format q4_0`, see the README) — else [`QuantPath::Exact`]. Other
/// GPUs run the int8 route when asked through [`quant_matmul_with`]; it becomes their default
/// once it has been measured faster on them.
pub fn default_path(ctx: &Context) -> QuantPath {
    if !ctx.is_gpu() || ctx.caps().cpu_device {
        QuantPath::Int8
    } else {
        QuantPath::Exact
    }
}

/// Whether [`QuantPath::Int8`] runs an integer kernel for `[m, ·]` activations and weights in
/// `ty` on `ctx` (otherwise it takes the exact decoders).
pub fn int8_kernel(ctx: &Context, ty: QuantType, m: usize) -> bool {
    match &*ctx.inner {
        Backend::Cpu(cfg) => lowbit_kernels::quant_matmul::has_int8_kernel(cfg.level, ty),
        Backend::Gpu(_) => m <= quant_q8::MAX_TOKENS && quant_q8::supports(ty),
    }
}

/// [`quant_matmul`] by a chosen path. `Int8` quantises x to int8 per block of 32 and uses
/// integer dot products (CPU: every format but F16/BF16/F32 and FP8, where the machine has
/// AVX2; GPUs: every block format at M ≤ 4, FP8's values meeting x's int8 values in f32,
/// `shaders/quant_q8.wgsl` and `quant_q8_ext.wgsl`), within
/// [`lowbit_kernels::quant_matmul::int8_error_bound`]; formats, shapes and machines without an
/// integer kernel fall back to `Exact`, which decodes the weights to exact f32.
pub fn quant_matmul_with<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &QuantMatrix,
    path: QuantPath,
) -> Result<Tensor> {
    quant_linear_with(ctx, x, w, None, path)
}

/// `y = x · Wᵀ + bias` with quantized W (a linear layer), by [`default_path`]: the bias, f32
/// `[N]`, is added in the kernel's epilogue (one f32 add per output, after the dot product).
pub fn quant_linear<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &QuantMatrix,
    bias: Option<TensorView<'a>>,
) -> Result<Tensor> {
    quant_linear_with(ctx, x, w, bias, default_path(ctx))
}

/// [`quant_linear`] by a chosen path (see [`quant_matmul_with`]).
pub fn quant_linear_with<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &QuantMatrix,
    bias: Option<TensorView<'a>>,
    path: QuantPath,
) -> Result<Tensor> {
    let x = x.into();
    let m = check_x_for_w(
        ctx,
        &x,
        &w.ctx,
        format_args!("{} ", w.ty.name()),
        (w.n, w.k),
    )?;
    let k = w.k;
    if !matches!(x.dtype, DType::F32 | DType::F16) {
        return Err(Error::DType {
            op: "quant_matmul",
            what: "x",
            dtype: x.dtype,
        });
    }
    let n = w.n;
    if let Some(b) = &bias {
        check_f32_vector(ctx, b, "quant_linear", "bias", n)?;
    }
    match (&*ctx.inner, &w.data) {
        (Backend::Cpu(cfg), QuantData::Host(bytes)) => {
            let mut xf = host_f32(&x).expect("checked dtype and context");
            if let Some(p) = &w.perm {
                let permuted: Vec<f32> = xf
                    .chunks(k)
                    .flat_map(|row| p.host.iter().map(move |&i| row[i as usize]))
                    .collect();
                xf = permuted.into();
            }
            let mut y = vec![0f32; m * n];
            lowbit_kernels::quant_matmul::quant_matmul_with(
                w.facts,
                path,
                cfg.level,
                cfg.threads,
                w.ty,
                bytes,
                &xf,
                m,
                n,
                k,
                &mut y,
            )?;
            if let Some(b) = bias.as_ref().and_then(host_f32) {
                for row in y.chunks_mut(n) {
                    for (v, &bv) in row.iter_mut().zip(b.iter()) {
                        *v += bv;
                    }
                }
            }
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &[m, n],
            ))
        }
        (Backend::Gpu(g), QuantData::Gpu(buf)) => {
            if let Some(dtype) = plain_dtype(w.ty) {
                let wv = TensorView::from_buffer(buf, 0, dtype, &[n, k])?;
                return super::matmul::linear(ctx, x, wv, bias);
            }
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            let bias_bind = match &bias {
                Some(b) => {
                    let (bb, bo) = gpu_parts(b);
                    Some(whole_binding(g, bb, bo, 4 * n as u64, "bias")?)
                }
                None => None,
            };
            match &w.perm {
                None => gpu(g, &x, w, buf, &y, path, bias_bind, None)?,
                Some(p) => {
                    let xp = permute_cols(g, &x, p.gpu.as_ref().expect("uploaded with W"))?;
                    let xv = TensorView::from_buffer(&xp, 0, DType::F32, &[m, k])?;
                    gpu(g, &xv, w, buf, &y, path, bias_bind, None)?;
                }
            }
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
        _ => unreachable!("a QuantMatrix's data matches its context"),
    }
}

/// The `Params` uniform of the quantized-weight kernels for W, x `[m, k]` (`m = 0` for the
/// decode-only kernel), tokens from `m0`, `groups_x` workgroups per row of the folded grid.
pub(crate) fn quant_params(
    g: &Gpu,
    w: &QuantMatrix,
    (m, k): (usize, usize),
    m0: usize,
    groups_x: u32,
    has_bias: bool,
) -> Result<wgpu::Buffer> {
    g.uniform(&[
        u32_of(w.n, "n")?,
        u32_of(k, "k")?,
        u32_of(m, "m")?,
        u32_of(w.row_bytes(), "row bytes")?,
        u32_of(m0, "m0")?,
        groups_x,
        u32::from(has_bias),
        0,
    ])
}

/// W's bytes as one binding (word-rounded: the kernels read `array<u32>`).
pub(crate) fn w_binding<'a>(
    g: &Gpu,
    w: &QuantMatrix,
    wbuf: &'a wgpu::Buffer,
) -> Result<wgpu::BindingResource<'a>> {
    whole_binding(
        g,
        wbuf,
        0,
        ((w.n * w.row_bytes()) as u64).div_ceil(4) * 4,
        "W",
    )
}

/// x `[M, K]` (f32, or f16 read as words) as one binding.
pub(crate) fn x_binding<'a>(g: &Gpu, x: &TensorView<'a>) -> Result<wgpu::BindingResource<'a>> {
    let (xb, xo) = gpu_parts(x);
    let bytes = mat_bytes(x.dtype, x.shape[0], x.shape[1]);
    whole_binding(g, xb, xo, bytes.div_ceil(4) * 4, "x")
}

/// The fused matmul on a GPU by `path`; `bias` (f32 `[N]`, checked) joins in the epilogue.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gpu(
    g: &Gpu,
    x: &TensorView,
    w: &QuantMatrix,
    wbuf: &wgpu::Buffer,
    y: &wgpu::Buffer,
    path: QuantPath,
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let m = x.shape[0];
    if m > MT {
        return gemm(g, x, w, wbuf, y, bias, timer);
    }
    if path == QuantPath::Int8 && m <= quant_q8::MAX_TOKENS && quant_q8::supports(w.ty) {
        return quant_q8::gemv(g, x, w, wbuf, y, bias, timer);
    }
    gemv_exact(g, x, w, wbuf, y, g.caps.cpu_device, bias, timer)
}

/// The exact decoders' GEMV for M ≤ 4: one row per invocation (`lane`: CPU-type adapters,
/// where it measured faster) or a workgroup per row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv_exact(
    g: &Gpu,
    x: &TensorView,
    w: &QuantMatrix,
    wbuf: &wgpu::Buffer,
    y: &wgpu::Buffer,
    lane: bool,
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let m = x.shape[0];
    if m > MT {
        return Err(Error::InvalidArgument(format!(
            "the quantized GEMV takes up to {MT} tokens, not {m} (more go to the GEMM)"
        )));
    }
    let n = w.n;
    let kernel = QuantKernel::Matmul {
        x_f16: x.dtype == DType::F16,
        one: m == 1,
        lane,
    };
    let groups = fold_groups(g, if lane { n.div_ceil(8) } else { n })?;
    run_fused(
        g,
        &variant(w.ty, kernel),
        (x, w, wbuf, y),
        groups,
        bias,
        timer,
    )
}

/// One dispatch of a fused kernel over `groups`: its parameters (`groups[0]` the folded grid's
/// row stride), W, x, y and the bias (x's binding standing in when there is none: read-only,
/// never read).
fn run_fused(
    g: &Gpu,
    comp: &ShaderVariant,
    (x, w, wbuf, y): (&TensorView, &QuantMatrix, &wgpu::Buffer, &wgpu::Buffer),
    groups: [u32; 3],
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k) = (x.shape[0], x.shape[1]);
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let w_bind = w_binding(g, w, wbuf)?;
    let x_bind = x_binding(g, x)?;
    let y_bind = whole_binding(g, y, 0, mat_bytes(DType::F32, m, w.n), "y")?;
    let params = quant_params(g, w, (m, k), 0, groups[0], bias.is_some())?;
    let bias_bind = bias.unwrap_or_else(|| x_bind.clone());
    let dispatch = Dispatch {
        pipeline: &pipeline,
        bindings: vec![
            params.as_entire_binding(),
            w_bind,
            x_bind,
            y_bind,
            bias_bind,
        ],
        groups,
    };
    g.run(&[dispatch], timer)
}

/// W decoded to f32 `[N, K]` on its context, in input-feature order (act-order int4 weights
/// un-permuted): a copy the matmul never makes, for validation (bit-exact against the
/// reference decoders) and for the "dequantise, then dense" baseline.
pub fn dequantize(w: &QuantMatrix) -> Result<Tensor> {
    let stored = dequantize_stored(w)?;
    let Some(p) = &w.perm else {
        return Ok(stored);
    };
    let (n, k) = (w.n, w.k);
    let v = stored.to_vec::<f32>()?;
    let mut out = vec![0f32; n * k];
    for (o, i) in out.chunks_mut(k).zip(v.chunks(k)) {
        for (j, &src) in p.host.iter().enumerate() {
            o[src as usize] = i[j];
        }
    }
    Tensor::from_slice(&w.ctx, &out, &[n, k])
}

/// [`dequantize`] in the stored column order.
fn dequantize_stored(w: &QuantMatrix) -> Result<Tensor> {
    let (n, k) = (w.n, w.k);
    match (&*w.ctx.inner, &w.data) {
        (Backend::Cpu(_), QuantData::Host(bytes)) => {
            let row = w.row_bytes();
            let mut out = vec![0f32; n * k];
            for r in 0..n {
                lowbit_kernels::formats::dequantize_row(
                    w.ty,
                    &bytes[r * row..(r + 1) * row],
                    &mut out[r * k..(r + 1) * k],
                )?;
            }
            Ok(Tensor::from_host(
                &w.ctx,
                HostData::F32(out),
                DType::F32,
                &[n, k],
            ))
        }
        (Backend::Gpu(g), QuantData::Gpu(buf)) => {
            if let Some(dtype) = plain_dtype(w.ty) {
                // Plain weights: the dense path's identity, through a matmul would round; copy.
                let bytes = g.download(buf, 0, mat_bytes(dtype, n, k))?;
                let mut out = vec![0f32; n * k];
                lowbit_kernels::formats::dequantize_row(w.ty, &bytes, &mut out)?;
                return Tensor::from_slice(&w.ctx, &out, &[n, k]);
            }
            let y = g.alloc(mat_bytes(DType::F32, n, k), "dequant")?;
            let comp = variant(w.ty, QuantKernel::Dequant);
            let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
            let w_bind = w_binding(g, w, buf)?;
            let y_bind = whole_binding(g, &y, 0, mat_bytes(DType::F32, n, k), "dequant")?;
            let invocations = n * (k / 32);
            let groups = fold_groups(g, invocations.div_ceil(64))?;
            let params = quant_params(g, w, (0, k), 0, groups[0], false)?;
            g.run(
                &[Dispatch {
                    pipeline: &pipeline,
                    bindings: vec![params.as_entire_binding(), w_bind, y_bind],
                    groups,
                }],
                None,
            )?;
            Ok(Tensor::from_buffer(&w.ctx, y, DType::F32, &[n, k]))
        }
        _ => unreachable!("a QuantMatrix's data matches its context"),
    }
}

/// GEMM tile sizes (tokens × W rows) of the `GEMM` variant.
const GEMM_BM: usize = 64;
const GEMM_BN: usize = 64;

/// The tiled kernel for M > 4: W tiles decoded into workgroup memory.
fn gemm(
    g: &Gpu,
    x: &TensorView,
    w: &QuantMatrix,
    wbuf: &wgpu::Buffer,
    y: &wgpu::Buffer,
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let m = x.shape[0];
    let comp = variant(w.ty, QuantKernel::Gemm(x.dtype == DType::F16));
    let groups = [
        u32_of(w.n.div_ceil(GEMM_BN), "GEMM column tiles")?,
        u32_of(m.div_ceil(GEMM_BM), "GEMM row tiles")?,
        1,
    ];
    run_fused(g, &comp, (x, w, wbuf, y), groups, bias, timer)
}

/// The permutation kernel for x f32 or f16.
pub(crate) fn permute_variant(x_f16: bool) -> ShaderVariant {
    let mut defines: BTreeSet<&str> = BTreeSet::new();
    if x_f16 {
        defines.insert("X_F16");
    }
    ShaderVariant {
        name: format!("permute_cols.{}", if x_f16 { "xf16" } else { "xf32" }),
        source: preprocess(PERMUTE_COLS, &defines),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// `x[.., perm]` into a new f32 buffer.
fn permute_cols(g: &Gpu, x: &TensorView, perm: &wgpu::Buffer) -> Result<wgpu::Buffer> {
    let (m, k) = (x.shape[0], x.shape[1]);
    let comp = permute_variant(x.dtype == DType::F16);
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let out = g.alloc(mat_bytes(DType::F32, m, k), "x permuted")?;
    let x_bind = x_binding(g, x)?;
    let p_bind = whole_binding(g, perm, 0, (k * 4) as u64, "perm")?;
    let o_bind = whole_binding(g, &out, 0, mat_bytes(DType::F32, m, k), "x permuted")?;
    let groups = fold_groups(g, (m * k).div_ceil(64))?;
    let params = g.uniform(&[u32_of(m, "m")?, u32_of(k, "k")?, groups[0] * 64, 0])?;
    g.run(
        &[Dispatch {
            pipeline: &pipeline,
            bindings: vec![params.as_entire_binding(), x_bind, p_bind, o_bind],
            groups,
        }],
        None,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::QuantData;
    use crate::validate_quant::{seeded_weights, Lcg};

    /// Both shapes of the exact decoders' GEMV (the default picks one per adapter type) for
    /// every block format on every adapter, M = 1 and 3, x f32 and f16, within the f32 bound
    /// of the CPU's decode.
    #[test]
    fn exact_gemv_both_shapes_every_format() {
        const U: f64 = 1.0 / (1u64 << 24) as f64;
        let gpus: Vec<Context> = Context::all_gpus()
            .into_iter()
            .map(|c| c.unwrap())
            .collect();
        if gpus.is_empty() && std::env::var_os("LOWBIT_REQUIRE_GPU").is_some() {
            panic!("LOWBIT_REQUIRE_GPU is set but no GPU adapter was found");
        }
        let mut rng = Lcg(99);
        for ctx in &gpus {
            let Backend::Gpu(g) = &*ctx.inner else {
                unreachable!()
            };
            for ty in gpu_block_types() {
                let (n, k) = (9, 2 * ty.block_elems());
                let (bytes, deq) = seeded_weights(ty, n, k, &mut rng).unwrap();
                let w = QuantMatrix::from_bytes(ctx, ty, n, k, &bytes).unwrap();
                let QuantData::Gpu(wbuf) = &w.data else {
                    unreachable!()
                };
                for (m, x_f16) in [(1, false), (3, false), (1, true), (3, true)] {
                    // f16 x: the values f16 holds, so the reference meets the same x.
                    let x: Vec<f32> = (0..m * k)
                        .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
                        .map(|v| {
                            if x_f16 {
                                half::f16::from_f32(v).to_f32()
                            } else {
                                v
                            }
                        })
                        .collect();
                    let dtype = if x_f16 { DType::F16 } else { DType::F32 };
                    let xt = crate::bench::tensor_of(ctx, dtype, &x, &[m, k]).unwrap();
                    for lane in [true, false] {
                        let y = g.alloc((m * n * 4) as u64, "y").unwrap();
                        gemv_exact(g, &xt.view(), &w, wbuf, &y, lane, None, None).unwrap();
                        let got = g.download(&y, 0, (m * n * 4) as u64).unwrap();
                        for t in 0..m {
                            for j in 0..n {
                                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                                for i in 0..k {
                                    let p = f64::from(deq[j * k + i]) * f64::from(x[t * k + i]);
                                    exact += p;
                                    mag += p.abs();
                                }
                                let bound = (k as f64 + 1.0) * U * mag + U * exact.abs();
                                let at = 4 * (t * n + j);
                                let v = f32::from_le_bytes(got[at..at + 4].try_into().unwrap());
                                assert!(
                                    (f64::from(v) - exact).abs() <= bound + f64::MIN_POSITIVE,
                                    "{} {} lane {lane} m{m} f16 {x_f16} token {t} row {j}: {v} vs {exact}",
                                    ctx.info().name,
                                    ty.name()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
