//! int8 matmul: `matmul_i8` (i8 × i8 → exact i32 accumulators) and W8A8 (`w8a8`: int8
//! activations with per-row f32 scales times int8 weights with per-row scales, f32 output
//! `f32(acc) · (x_scale[m] · w_scale[n])`, the same expression on every backend, bit-exact).
//!
//! Kernels: `shaders/int8_gemv.wgsl` (M <= 4) and `shaders/int8_gemm.wgsl`, each with
//! `dot4I8Packed` and a portable extractBits dot product.

use std::collections::BTreeSet;

use lowbit_kernels::DType;

use super::matmul::{MatmulKernel, GEMV_MAX_M};
use super::plan::{
    check_ctx, check_f32_vector, dims2, gpu_parts, mat_bytes, run_chunks, w_chunks, whole_binding,
    Grid, LOOP_LIMITED_K_SLICE,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuTimer};
use crate::shaders::{Composer, F16Path, ShaderVariant, INT8_COMMON, INT8_GEMM, INT8_GEMV, PARAMS};
use crate::tensor::{HostData, Tensor, TensorView, ViewData};

/// Largest K for which an i32 accumulator of int8 products cannot overflow (128² · K < 2³¹).
pub const MAX_K: usize = 131_071;
const GEMV_ROWS: u32 = 2;
const GEMV_WG: u32 = 256;
const TM: u32 = 4;
const TN: u32 = 4;
const WG_X: u32 = 16;
const WG_Y: u32 = 16;
const BKW: u32 = 4;

/// An int8 kernel variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Int8Variant {
    /// GEMV, GEMM or CPU.
    pub kernel: MatmulKernel,
    /// Subgroup reduction (GEMV only).
    pub subgroup: bool,
    /// `dot4I8Packed` (true) or the portable extractBits dot product.
    pub dot_native: bool,
}

impl Int8Variant {
    /// Short name, e.g. `i8gemv.sg.dp4`.
    pub fn name(&self) -> String {
        let dot = if self.dot_native { "dp4" } else { "dotx" };
        match self.kernel {
            MatmulKernel::Cpu => "cpu".into(),
            MatmulKernel::Gemm => format!("i8gemm.{dot}"),
            MatmulKernel::Gemv => {
                format!("i8gemv.{}.{dot}", if self.subgroup { "sg" } else { "wg" })
            }
        }
    }
}

/// Every int8 variant `ctx` can run for M rows; the first is the default.
pub fn variants(ctx: &Context, m: usize) -> Vec<Int8Variant> {
    variants_for(ctx.caps(), ctx.is_gpu(), m)
}

fn variants_for(caps: crate::gpu::Caps, gpu: bool, m: usize) -> Vec<Int8Variant> {
    if !gpu {
        return vec![Int8Variant {
            kernel: MatmulKernel::Cpu,
            subgroup: false,
            dot_native: false,
        }];
    }
    let mut out = Vec::new();
    if m <= GEMV_MAX_M {
        let sgs: &[bool] = if caps.subgroups {
            &[true, false]
        } else {
            &[false]
        };
        for &subgroup in sgs {
            for dot_native in [true, false] {
                out.push(Int8Variant {
                    kernel: MatmulKernel::Gemv,
                    subgroup,
                    dot_native,
                });
            }
        }
    }
    for dot_native in [true, false] {
        out.push(Int8Variant {
            kernel: MatmulKernel::Gemm,
            subgroup: false,
            dot_native,
        });
    }
    out
}

/// Exact int8 matmul: x i8 `[M, K]`, w i8 `[N, K]`, returns the i32 accumulators `[M, N]`.
pub fn matmul_i8<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
) -> Result<Tensor> {
    int8_with(ctx, x.into(), w.into(), None, None)
}

/// W8A8: x i8 `[M, K]` with `x_scale` f32 `[M]`, w i8 `[N, K]` with `w_scale` f32 `[N]`;
/// returns f32 `[M, N]` = `f32(acc) · (x_scale[m] · w_scale[n])`.
pub fn w8a8<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    x_scale: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    w_scale: impl Into<TensorView<'a>>,
) -> Result<Tensor> {
    int8_with(
        ctx,
        x.into(),
        w.into(),
        Some((x_scale.into(), w_scale.into())),
        None,
    )
}

/// W8A8 as a linear layer: [`w8a8`] plus `bias` f32 `[N]`, added in the kernel's epilogue
/// after the scales (`f32(acc)·(x_scale·w_scale) + bias`, bit-exact on every backend).
pub fn w8a8_linear<'a>(
    ctx: &Context,
    (x, x_scale): (TensorView<'a>, TensorView<'a>),
    (w, w_scale): (TensorView<'a>, TensorView<'a>),
    bias: Option<TensorView<'a>>,
    variant: Option<Int8Variant>,
) -> Result<Tensor> {
    int8_impl(ctx, x, w, Some((x_scale, w_scale)), bias, variant)
}

/// Either int8 op with a chosen variant; `scales` selects W8A8 output.
pub fn int8_with(
    ctx: &Context,
    x: TensorView<'_>,
    w: TensorView<'_>,
    scales: Option<(TensorView<'_>, TensorView<'_>)>,
    variant: Option<Int8Variant>,
) -> Result<Tensor> {
    int8_impl(ctx, x, w, scales, None, variant)
}

fn int8_impl(
    ctx: &Context,
    x: TensorView<'_>,
    w: TensorView<'_>,
    scales: Option<(TensorView<'_>, TensorView<'_>)>,
    bias: Option<TensorView<'_>>,
    variant: Option<Int8Variant>,
) -> Result<Tensor> {
    let (m, n, k) = check(ctx, &x, &w, scales.as_ref())?;
    if let Some(b) = &bias {
        check_f32_vector(ctx, b, "w8a8_linear", "bias", n)?;
    }
    let out_dtype = if scales.is_some() {
        DType::F32
    } else {
        DType::I32
    };
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            let (xs, ws) = (host_i8(&x), host_i8(&w));
            let data = match &scales {
                Some((sx, sw)) => {
                    let mut y = vec![0f32; m * n];
                    lowbit_kernels::matmul::w8a8(
                        cfg,
                        xs,
                        host_f32(sx),
                        ws,
                        host_f32(sw),
                        m,
                        n,
                        k,
                        &mut y,
                    )?;
                    if let Some(b) = bias.as_ref() {
                        let b = host_f32(b);
                        for row in y.chunks_mut(n) {
                            for (v, &bv) in row.iter_mut().zip(b) {
                                *v += bv;
                            }
                        }
                    }
                    HostData::F32(y)
                }
                None => {
                    let mut acc = vec![0i32; m * n];
                    lowbit_kernels::matmul::matmul_i8(cfg, xs, ws, m, n, k, &mut acc)?;
                    HostData::I32(acc)
                }
            };
            Ok(Tensor::from_host(ctx, data, out_dtype, &[m, n]))
        }
        Backend::Gpu(g) => {
            let y = g.alloc(mat_bytes(out_dtype, m, n), "y")?;
            gpu(g, &x, &w, scales.as_ref(), bias.as_ref(), &y, variant, None)?;
            Ok(Tensor::from_buffer(ctx, y, out_dtype, &[m, n]))
        }
    }
}

fn host_i8<'a>(v: &TensorView<'a>) -> &'a [i8] {
    match v.data {
        ViewData::Host(HostData::I8(d)) => d,
        _ => unreachable!("dtype and backend checked"),
    }
}

fn host_f32<'a>(v: &TensorView<'a>) -> &'a [f32] {
    match v.data {
        ViewData::Host(HostData::F32(d)) => d,
        _ => unreachable!("dtype and backend checked"),
    }
}

fn check(
    ctx: &Context,
    x: &TensorView,
    w: &TensorView,
    scales: Option<&(TensorView, TensorView)>,
) -> Result<(usize, usize, usize)> {
    for (v, what) in [(x, "x"), (w, "w")] {
        if v.dtype != DType::I8 {
            return Err(Error::DType {
                op: "int8 matmul",
                what,
                dtype: v.dtype,
            });
        }
        check_ctx(ctx, v, what)?;
    }
    let (m, k) = dims2(x, "x")?;
    let (n, kw) = dims2(w, "w")?;
    if k != kw {
        return Err(Error::Shape(format!(
            "x is [{m}, {k}] but w is [{n}, {kw}]: K differs"
        )));
    }
    if k > MAX_K {
        return Err(Error::Shape(format!(
            "K = {k} could overflow the i32 accumulator; int8 matmul takes K <= {MAX_K}"
        )));
    }
    if let Some((sx, sw)) = scales {
        for (v, what, len) in [(sx, "x_scale", m), (sw, "w_scale", n)] {
            if v.dtype != DType::F32 {
                return Err(Error::DType {
                    op: "w8a8",
                    what,
                    dtype: v.dtype,
                });
            }
            check_ctx(ctx, v, what)?;
            if v.shape.iter().product::<usize>() != len {
                return Err(Error::Shape(format!(
                    "{what} has shape {:?}, expected {len} scales",
                    v.shape
                )));
            }
        }
    }
    Ok((m, n, k))
}

fn composer(v: Int8Variant, m: usize, aligned: bool, out_f32: bool) -> Composer {
    let mut defines = BTreeSet::new();
    for (on, d) in [
        (aligned, "ALIGNED"),
        (v.subgroup, "SUBGROUP"),
        (v.dot_native, "DOT_NATIVE"),
        (out_f32, "OUT_F32"),
    ] {
        if on {
            defines.insert(d);
        }
    }
    let (body, consts, mr) = match v.kernel {
        MatmulKernel::Gemv => {
            let mr = m as u32;
            let consts = vec![("MR", mr), ("ROWS", GEMV_ROWS), ("NACC", mr * GEMV_ROWS)];
            (INT8_GEMV, consts, m)
        }
        _ => (INT8_GEMM, vec![("TM", TM), ("TN", TN)], 0),
    };
    Composer {
        name: format!(
            "int8.{}.m{mr}.{}{}",
            v.name(),
            if aligned { "aligned" } else { "bytes" },
            if out_f32 { ".w8a8" } else { ".i32" }
        ),
        body: vec![PARAMS, INT8_COMMON, body],
        consts,
        defines,
        operands: vec![],
        f16: F16Path::Packed,
    }
}

/// Every shader variant the int8 ops can compose.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let mut out = Vec::new();
    for aligned in [true, false] {
        for out_f32 in [true, false] {
            for dot_native in [true, false] {
                for subgroup in [true, false] {
                    for m in 1..=GEMV_MAX_M {
                        let v = Int8Variant {
                            kernel: MatmulKernel::Gemv,
                            subgroup,
                            dot_native,
                        };
                        out.push(composer(v, m, aligned, out_f32).build());
                    }
                }
                let v = Int8Variant {
                    kernel: MatmulKernel::Gemm,
                    subgroup: false,
                    dot_native,
                };
                out.push(composer(v, 0, aligned, out_f32).build());
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn gpu(
    g: &Gpu,
    x: &TensorView,
    w: &TensorView,
    scales: Option<&(TensorView, TensorView)>,
    bias: Option<&TensorView>,
    y_buf: &wgpu::Buffer,
    variant: Option<Int8Variant>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k) = (x.shape[0], x.shape[1]);
    let n = w.shape[0];
    let allowed = variants_for(g.caps, true, m);
    let v = match variant {
        None => allowed[0],
        Some(v) if allowed.contains(&v) => v,
        Some(v) => {
            return Err(Error::Unsupported(format!(
                "int8 variant {} does not run on this adapter for M={m}",
                v.name()
            )))
        }
    };
    let comp = composer(v, m, k % 4 == 0, scales.is_some());
    let consts: Vec<(&str, f64)> = match v.kernel {
        MatmulKernel::Gemv => vec![("WG", GEMV_WG as f64)],
        _ => vec![
            ("WG_X", WG_X as f64),
            ("WG_Y", WG_Y as f64),
            ("BKW", BKW as f64),
        ],
    };
    let pipeline = g.pipeline(&comp.name, || comp.build().source, &consts)?;
    let (xb, xo) = gpu_parts(x);
    let x_bind = whole_binding(g, xb, xo, mat_bytes(DType::I8, m, k), "x")?;
    let out_dtype = if scales.is_some() {
        DType::F32
    } else {
        DType::I32
    };
    let y_bind = whole_binding(g, y_buf, 0, mat_bytes(out_dtype, m, n), "y")?;
    let scale_binds = match scales {
        Some((sx, sw)) => {
            let (b, o) = gpu_parts(sx);
            let sxb = whole_binding(g, b, o, mat_bytes(DType::F32, 1, m), "x_scale")?;
            let (b, o) = gpu_parts(sw);
            let swb = whole_binding(g, b, o, mat_bytes(DType::F32, 1, n), "w_scale")?;
            // Without a bias, x_scale's binding stands in (read-only, never read).
            let bb = match bias {
                Some(bv) => {
                    let (b, o) = gpu_parts(bv);
                    whole_binding(g, b, o, mat_bytes(DType::F32, 1, n), "bias")?
                }
                None => sxb.clone(),
            };
            vec![sxb, swb, bb]
        }
        None => vec![],
    };
    let chunks = w_chunks(g, w, n, k)?;
    let grid = match v.kernel {
        MatmulKernel::Gemv => Grid::Gemv {
            rows: GEMV_ROWS as usize,
        },
        _ => Grid::Gemm {
            bn: (WG_X * TN) as usize,
            bm: (WG_Y * TM) as usize,
        },
    };
    // llvmpipe ends an invocation after 65535 loop back-edges without an error: slice long K.
    let k_slice = match v.kernel {
        MatmulKernel::Gemm if g.caps.loop_limited => LOOP_LIMITED_K_SLICE,
        _ => k,
    };
    run_chunks(
        g,
        &pipeline,
        &chunks,
        (m, n, k),
        grid,
        k_slice,
        x_bind,
        y_bind,
        &scale_binds,
        bias.is_some(),
        timer,
    )
}
