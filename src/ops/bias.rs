//! `add_bias`: the per-channel bias for any matmul op's f32 output, `y[t, n] += bias[n]` —
//! `add_bias(&ctx, ops::shift_matmul(&ctx, &x, &w)?, &b)` — in place (GPU: one small pass over
//! y, `shaders/bias.wgsl`). `linear`, `w8a8_linear`, `quant_linear`, `ternary_matmul` and
//! `bcq_matmul` add the bias in their kernels' epilogue instead.

use lowbit_kernels::DType;

use super::plan::{
    check_ctx, check_f32_vector, fold_groups, gpu_parts, host_f32, u32_of, whole_binding,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::Dispatch;
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView};

const BIAS: &str = include_str!("../../shaders/bias.wgsl");

fn variant() -> ShaderVariant {
    ShaderVariant {
        name: "bias_add".into(),
        source: BIAS.into(),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    vec![variant()]
}

/// `y + bias` for y f32 `[M, N]` (a matmul's output) and `bias` f32 `[N]`; y's storage is
/// reused. Each sum is one f32 add, so every backend gives the same bits.
pub fn add_bias<'a>(ctx: &Context, y: Tensor, bias: impl Into<TensorView<'a>>) -> Result<Tensor> {
    let bias = bias.into();
    check_ctx(ctx, &y.view(), "y")?;
    let (m, n) = match y.shape() {
        [m, n] if y.dtype() == DType::F32 => (*m, *n),
        s => {
            return Err(Error::Shape(format!(
                "add_bias: y must be f32 [M, N], got {} {s:?}",
                y.dtype()
            )))
        }
    };
    check_f32_vector(ctx, &bias, "add_bias", "bias", n)?;
    match &*ctx.inner {
        Backend::Cpu(_) => {
            let b = host_f32(&bias).expect("checked: f32 bias on the host");
            let mut v = y.to_vec::<f32>()?;
            for row in v.chunks_mut(n) {
                for (o, &bv) in row.iter_mut().zip(b.iter()) {
                    *o += bv;
                }
            }
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(v),
                DType::F32,
                &[m, n],
            ))
        }
        Backend::Gpu(g) => {
            {
                let comp = variant();
                let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
                let groups = fold_groups(g, (m * n).div_ceil(64))?;
                let params = g.uniform(&[u32_of(m, "M")?, u32_of(n, "N")?, groups[0], 0])?;
                let yv = y.view();
                let (yb, yo) = gpu_parts(&yv);
                let (bb, bo) = gpu_parts(&bias);
                let bindings = vec![
                    params.as_entire_binding(),
                    whole_binding(g, yb, yo, 4 * (m * n) as u64, "y")?,
                    whole_binding(g, bb, bo, 4 * n as u64, "bias")?,
                ];
                let dispatch = Dispatch {
                    pipeline: &pipeline,
                    bindings,
                    groups,
                };
                g.run(&[dispatch], None)?;
            }
            Ok(y)
        }
    }
}
