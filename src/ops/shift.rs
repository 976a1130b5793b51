//! `shift_matmul`: `y = x · Wᵀ` with W a [`ShiftMatrix`] of power-of-two weights, by the modes
//! of `lowbit_kernels::shift`: f32 x (`x·2^(−e)`, exact ldexp) gives f32 y; i32 fixed-point x
//! (arithmetic shifts) gives the i32 sums. GPU (`shaders/shift.wgsl`) and CPU give the same bits.

use std::collections::BTreeSet;

use lowbit_kernels::DType;

use super::plan::{check_x_for_w, fold_groups, gpu_parts, mat_bytes, u32_of, whole_binding};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;
use crate::shift::{ShiftData, ShiftMatrix};
use crate::tensor::{HostData, Tensor, TensorView, ViewData};

const SHIFT: &str = include_str!("../../shaders/shift.wgsl");

/// Loop steps one invocation may take on a loop-limited driver (llvmpipe: 65535 back-edges).
const LOOP_LIMITED_STEPS: usize = 60_000;

fn variant(fixed: bool) -> ShaderVariant {
    let mut defines = BTreeSet::new();
    if fixed {
        defines.insert("FIXED");
    }
    ShaderVariant {
        name: if fixed { "shift_i32" } else { "shift_f32" }.into(),
        source: preprocess(SHIFT, &defines),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    vec![variant(false), variant(true)]
}

/// `y = x · Wᵀ`: x `[M, K]` f32 (y f32) or i32 fixed-point (y i32, W with one scale per
/// channel, not applied).
pub fn shift_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &ShiftMatrix,
) -> Result<Tensor> {
    shift_matmul_timed(ctx, x.into(), w, None)
}

pub(crate) fn shift_matmul_timed(
    ctx: &Context,
    x: TensorView<'_>,
    w: &ShiftMatrix,
    timer: Option<&GpuTimer>,
) -> Result<Tensor> {
    let m = check_x_for_w(ctx, &x, &w.ctx, format_args!(""), (w.n, w.k))?;
    let k = w.k;
    let fixed = match x.dtype {
        DType::F32 => false,
        DType::I32 if w.group == w.k => true,
        DType::I32 => {
            return Err(Error::InvalidArgument(
                "fixed-point (i32) x takes W with one scale per channel (group = K)".into(),
            ))
        }
        d => {
            return Err(Error::DType {
                op: "shift_matmul",
                what: "x",
                dtype: d,
            })
        }
    };
    let n = w.n;
    let out = if fixed { DType::I32 } else { DType::F32 };
    match (&*ctx.inner, &w.data) {
        (Backend::Cpu(cfg), ShiftData::Host(sw)) => {
            let data = match x.data {
                ViewData::Host(HostData::F32(v)) => {
                    let mut y = vec![0f32; m * n];
                    lowbit_kernels::shift::shift_matmul_f32(cfg.threads, sw, v, m, &mut y)?;
                    HostData::F32(y)
                }
                ViewData::Host(HostData::I32(v)) => {
                    let mut y = vec![0i32; m * n];
                    lowbit_kernels::shift::shift_matmul_i32(cfg.threads, sw, v, m, &mut y)?;
                    HostData::I32(y)
                }
                _ => unreachable!("checked dtype and context"),
            };
            Ok(Tensor::from_host(ctx, data, out, &[m, n]))
        }
        (Backend::Gpu(g), ShiftData::Gpu { codes, scales }) => {
            if g.caps.loop_limited && k > LOOP_LIMITED_STEPS {
                return Err(Error::DeviceLimit(format!(
                    "shift_matmul: K = {k} loop steps per invocation, over this driver's limit"
                )));
            }
            let y = g.alloc(mat_bytes(out, m, n), "y")?;
            gpu(g, &x, w, (codes, scales), fixed, &y, timer)?;
            Ok(Tensor::from_buffer(ctx, y, out, &[m, n]))
        }
        _ => unreachable!("a ShiftMatrix's data matches its context"),
    }
}

fn gpu(
    g: &Gpu,
    x: &TensorView,
    w: &ShiftMatrix,
    (codes, scales): (&wgpu::Buffer, &wgpu::Buffer),
    fixed: bool,
    y: &wgpu::Buffer,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k, n) = (x.shape[0], x.shape[1], w.n);
    let comp = variant(fixed);
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let outputs = m * n;
    let groups = fold_groups(g, outputs.div_ceil(64))?;
    let params = g.uniform(&[
        u32_of(n, "N")?,
        u32_of(k, "K")?,
        u32_of(m, "M")?,
        w.bits,
        u32::from(w.zero_code),
        u32_of(w.group, "group")?,
        groups[0],
        0,
    ])?;
    let (xb, xo) = gpu_parts(x);
    let mut bindings = vec![
        params.as_entire_binding(),
        whole_binding(g, codes, 0, codes.size(), "shift codes")?,
    ];
    if !fixed {
        bindings.push(whole_binding(g, scales, 0, scales.size(), "shift scales")?);
    }
    bindings.push(whole_binding(g, xb, xo, mat_bytes(x.dtype, m, k), "x")?);
    bindings.push(whole_binding(g, y, 0, mat_bytes(x.dtype, m, n), "y")?);
    let dispatch = Dispatch {
        pipeline: &pipeline,
        bindings,
        groups,
    };
    g.run(&[dispatch], timer)
}
