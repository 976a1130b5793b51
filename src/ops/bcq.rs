//! `bcq_matmul`: `y = x · Wᵀ (+ bias)` with W a [`BcqMatrix`] of binary-coded weights, by
//! query-and-add (`lowbit_kernels::bcq`): f32 x, f32 y within `bcq::error_bound`. GPU:
//! `shaders/bcq.wgsl`.

use lowbit_kernels::DType;

use super::plan::{
    check_f32_vector, check_x_for_w, fold_groups, gpu_parts, host_f32, mat_bytes, optional_binding,
    u32_of, whole_binding,
};
use crate::bcq::{BcqData, BcqMatrix};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView};

const BCQ: &str = include_str!("../../shaders/bcq.wgsl");

fn variant() -> ShaderVariant {
    ShaderVariant {
        name: "bcq_matmul".into(),
        source: BCQ.into(),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    vec![variant()]
}

/// `y = x · Wᵀ (+ bias)`: x `[M, K]` f32, `bias` f32 `[N]`, y f32 `[M, N]`.
pub fn bcq_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: &BcqMatrix,
    bias: Option<TensorView<'a>>,
) -> Result<Tensor> {
    bcq_matmul_timed(ctx, x.into(), w, bias, None)
}

pub(crate) fn bcq_matmul_timed(
    ctx: &Context,
    x: TensorView<'_>,
    w: &BcqMatrix,
    bias: Option<TensorView<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<Tensor> {
    let m = check_x_for_w(ctx, &x, &w.ctx, format_args!(""), (w.n, w.k))?;
    if x.dtype != DType::F32 {
        return Err(Error::DType {
            op: "bcq_matmul",
            what: "x",
            dtype: x.dtype,
        });
    }
    if let Some(b) = &bias {
        check_f32_vector(ctx, b, "bcq_matmul", "bias", w.n)?;
    }
    let n = w.n;
    match (&*ctx.inner, &w.data) {
        (Backend::Cpu(cfg), BcqData::Host(bw)) => {
            let xf = host_f32(&x).expect("checked: f32 x on the host");
            let b = bias.as_ref().and_then(|v| host_f32(v));
            let mut y = vec![0f32; m * n];
            lowbit_kernels::bcq::bcq_matmul(cfg.threads, bw, &xf, m, b.as_deref(), &mut y)?;
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &[m, n],
            ))
        }
        (Backend::Gpu(g), BcqData::Gpu { bits, scales }) => {
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            gpu(g, (&x, bias.as_ref()), w, (bits, scales), &y, timer)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
        _ => unreachable!("a BcqMatrix's data matches its context"),
    }
}

fn gpu(
    g: &Gpu,
    (x, bias): (&TensorView, Option<&TensorView>),
    w: &BcqMatrix,
    (bits, scales): (&wgpu::Buffer, &wgpu::Buffer),
    y: &wgpu::Buffer,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k, n) = (x.shape[0], x.shape[1], w.n);
    let comp = variant();
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let groups = fold_groups(g, n.div_ceil(64))?;
    let max = g.limits.max_compute_workgroups_per_dimension as usize;
    if m > max {
        return Err(Error::DeviceLimit(format!(
            "bcq_matmul: {m} tokens, one workgroup row each, over the device's {max}"
        )));
    }
    let params = g.uniform(&[
        u32_of(n, "N")?,
        u32_of(k, "K")?,
        u32_of(m, "M")?,
        u32_of(w.planes, "planes")?,
        u32_of(k.div_ceil(32), "words")?,
        u32_of(w.terms, "terms")?,
        u32_of(w.block_k, "block_k")?,
        u32_of(w.block_n, "block_n")?,
        u32_of(n / w.block_n, "row groups")?,
        u32_of(k / w.block_k, "K blocks")?,
        groups[0],
        u32::from(bias.is_some()),
    ])?;
    let mut zero = None;
    let (xb, xo) = gpu_parts(x);
    let bindings = vec![
        params.as_entire_binding(),
        whole_binding(g, bits, 0, bits.size(), "bcq bits")?,
        whole_binding(g, scales, 0, scales.size(), "bcq scales")?,
        optional_binding(g, bias, &mut zero, n, "bias")?,
        whole_binding(g, xb, xo, mat_bytes(DType::F32, m, k), "x")?,
        whole_binding(g, y, 0, mat_bytes(DType::F32, m, n), "y")?,
    ];
    let dispatch = Dispatch {
        pipeline: &pipeline,
        bindings,
        groups: [groups[0], groups[1], m as u32],
    };
    g.run(&[dispatch], timer)
}
