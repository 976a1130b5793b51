//! `lut_matmul`: `y = x · Wᵀ` with W a [`LutMatrix`] (b-bit weights as bit planes), x f32
//! `[M, K]` (f16 too on the CPU backend), y f32 `[M, N]`, by one of two kernels over the same
//! bytes: the T-MAC table kernel (activation tables, look-ups and adds; f32 or int8 tables)
//! or the dequantise-in-register kernel (each weight's code assembled from its plane bits, then
//! multiplied). GPU: `shaders/lut_matmul.wgsl`; CPU: `lowbit_kernels::lut`.

use std::collections::BTreeSet;

pub use lowbit_kernels::lut::LutPrecision;
use lowbit_kernels::DType;

use super::plan::{
    check_x_for_w, fold_groups, gpu_parts, host_f32, mat_bytes, u32_of, whole_binding,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::lut::{LutData, LutMatrix};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView};

const LUT_MATMUL: &str = include_str!("../../shaders/lut_matmul.wgsl");

/// Which kernel runs a LUT matmul.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LutKernel {
    /// Activation tables and look-ups, with tables of this precision.
    Table(LutPrecision),
    /// Weights dequantised in registers from the same planes, f32 products (exact weights:
    /// within the f32 bound).
    Dequant,
}

impl LutKernel {
    /// `table-f32`, `table-int8` or `dequant`.
    pub fn name(self) -> &'static str {
        match self {
            LutKernel::Table(LutPrecision::F32) => "table-f32",
            LutKernel::Table(LutPrecision::Int8) => "table-int8",
            LutKernel::Dequant => "dequant",
        }
    }
}

/// The kernel [`lut_matmul`] runs on `ctx` for tables of `precision`, and why: the table
/// kernel where it measured faster than dequantising the same planes in registers — the CPU
/// (`lowbit bench --op lut-matmul --bits 2`: int8 tables 0.21 ms, dequantising 1.4 ms, see the
/// README) — and the dequantise kernel on GPUs, where tables in workgroup memory measured
/// slower (lavapipe, llvmpipe GL: 1.0–1.9×; on real GPUs T-MAC's authors and the LUT Tensor
/// Core paper report the same). No GPU has been measured yet.
pub fn lut_kernel(ctx: &Context, precision: LutPrecision) -> (LutKernel, &'static str) {
    if ctx.is_gpu() {
        (
            LutKernel::Dequant,
            "GPU: tables in workgroup memory measured slower than dequantising in registers",
        )
    } else {
        (
            LutKernel::Table(precision),
            "CPU: vpshufb/vpermps table look-ups measured faster than dequantising",
        )
    }
}

/// `y = x · Wᵀ` by the kernel [`lut_kernel`] picks for `ctx`.
pub fn lut_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &LutMatrix,
    precision: LutPrecision,
) -> Result<Tensor> {
    lut_matmul_with(ctx, x, w, lut_kernel(ctx, precision).0)
}

/// `y = x · Wᵀ` by a chosen kernel.
pub fn lut_matmul_with<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &LutMatrix,
    kernel: LutKernel,
) -> Result<Tensor> {
    lut_matmul_timed(ctx, x.into(), w, kernel, None)
}

pub(crate) fn lut_matmul_timed(
    ctx: &Context,
    x: TensorView<'_>,
    w: &LutMatrix,
    kernel: LutKernel,
    timer: Option<&GpuTimer>,
) -> Result<Tensor> {
    let m = check_x_for_w(ctx, &x, &w.ctx, format_args!("{}-bit ", w.bits), (w.n, w.k))?;
    let n = w.n;
    match (&*ctx.inner, &w.data) {
        (Backend::Cpu(cfg), LutData::Host(lw)) => {
            let xf = host_f32(&x).ok_or(Error::DType {
                op: "lut_matmul",
                what: "x",
                dtype: x.dtype,
            })?;
            let mut y = vec![0f32; m * n];
            match kernel {
                LutKernel::Table(p) => {
                    lowbit_kernels::lut::lut_matmul(cfg.level, cfg.threads, p, lw, &xf, m, &mut y)?
                }
                LutKernel::Dequant => {
                    lowbit_kernels::lut::dequant_matmul(cfg.level, cfg.threads, lw, &xf, m, &mut y)?
                }
            }
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &[m, n],
            ))
        }
        (Backend::Gpu(g), LutData::Gpu { .. }) => {
            if x.dtype != DType::F32 {
                return Err(Error::DType {
                    op: "lut_matmul (GPU: f32 x)",
                    what: "x",
                    dtype: x.dtype,
                });
            }
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            gpu(g, &x, w, kernel, &y, timer)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
        _ => unreachable!("a LutMatrix's data matches its context"),
    }
}

/// Tokens per dispatch of the kernel (`MT1`: one).
const MT: usize = 4;

/// One composed variant of `lut_matmul.wgsl`.
fn variant(kernel: LutKernel, one: bool) -> ShaderVariant {
    let mut defines = BTreeSet::new();
    match kernel {
        LutKernel::Table(LutPrecision::Int8) => {
            defines.insert("INT8");
        }
        LutKernel::Dequant => {
            defines.insert("DEQ");
        }
        LutKernel::Table(LutPrecision::F32) => {}
    }
    if one {
        defines.insert("MT1");
    }
    ShaderVariant {
        name: format!(
            "lut_matmul_{}{}",
            kernel.name(),
            if one { "_mt1" } else { "" }
        ),
        source: preprocess(LUT_MATMUL, &defines),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let kernels = [
        LutKernel::Table(LutPrecision::F32),
        LutKernel::Table(LutPrecision::Int8),
        LutKernel::Dequant,
    ];
    kernels
        .into_iter()
        .flat_map(|k| [variant(k, true), variant(k, false)])
        .collect()
}

fn gpu(
    g: &Gpu,
    x: &TensorView,
    w: &LutMatrix,
    kernel: LutKernel,
    y: &wgpu::Buffer,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let LutData::Gpu {
        planes,
        scales,
        zeros,
    } = &w.data
    else {
        unreachable!("GPU context")
    };
    let (m, k, n) = (x.shape[0], x.shape[1], w.n);
    let comp = variant(kernel, m == 1);
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let tiles = n.div_ceil(lowbit_kernels::lut::TILE_ROWS);
    let groups = fold_groups(g, tiles)?;
    let (xb, xo) = gpu_parts(x);
    let x_bind = whole_binding(g, xb, xo, mat_bytes(DType::F32, m, k), "x")?;
    let y_bind = whole_binding(g, y, 0, mat_bytes(DType::F32, m, n), "y")?;
    let p_bind = whole_binding(g, planes, 0, planes.size(), "LUT planes")?;
    let s_bind = whole_binding(g, scales, 0, scales.size(), "LUT scales")?;
    let z_bind = whole_binding(g, zeros, 0, zeros.size(), "LUT zeros")?;
    let per = if m == 1 { 1 } else { MT };
    let params = (0..m)
        .step_by(per)
        .map(|m0| {
            g.uniform(&[
                u32_of(n, "n")?,
                u32_of(k, "k")?,
                u32_of(m, "m")?,
                u32_of(m0, "m0")?,
                w.bits,
                u32_of(w.groups, "groups")?,
                u32_of(w.group, "group")?,
                u32_of(w.span, "span")?,
                u32_of(w.pairs, "pairs")?,
                groups[0],
                0,
                0,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    let dispatches: Vec<Dispatch> = params
        .iter()
        .map(|p| Dispatch {
            pipeline: &pipeline,
            bindings: vec![
                p.as_entire_binding(),
                p_bind.clone(),
                s_bind.clone(),
                z_bind.clone(),
                x_bind.clone(),
                y_bind.clone(),
            ],
            groups,
        })
        .collect();
    g.run(&dispatches, timer)
}
