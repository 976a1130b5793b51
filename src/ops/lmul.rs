//! L-Mul ops: products replaced by the integer add of `lowbit_kernels::lmul` (defined there,
//! special values included). `lmul_matmul`: `y = x · Wᵀ` with every product an L-Mul and f32
//! adds in a fixed order; `lmul_elementwise`: `a ⊙ b`. GPU (`shaders/lmul.wgsl`) and CPU give
//! the same bits.

use std::collections::BTreeSet;

use lowbit_kernels::lmul::{lmul_bits, lmul_gemv, offset};
use lowbit_kernels::DType;

use super::plan::{
    check_ctx, dims2, fold_groups, gpu_parts, host_f32, mat_bytes, u32_of, whole_binding,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView};

const LMUL: &str = include_str!("../../shaders/lmul.wgsl");

/// Loop steps (8 products each) one GEMV invocation may take on a loop-limited driver
/// (llvmpipe ends an invocation after 65535 back-edges): K up to 8·60000.
const LOOP_LIMITED_STEPS: usize = 60_000;

fn variant(elementwise: bool) -> ShaderVariant {
    let mut defines = BTreeSet::new();
    if elementwise {
        defines.insert("ELEMENTWISE");
    }
    ShaderVariant {
        name: if elementwise {
            "lmul_elementwise"
        } else {
            "lmul_gemv"
        }
        .into(),
        source: preprocess(LMUL, &defines),
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    vec![variant(true), variant(false)]
}

fn check_mbits(mbits: u32) -> Result<()> {
    if (1..=23).contains(&mbits) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "L-Mul emulates 1 to 23 mantissa bits, got {mbits}"
        )))
    }
}

fn f32_operand(ctx: &Context, v: &TensorView<'_>, what: &'static str) -> Result<()> {
    check_ctx(ctx, v, what)?;
    if v.dtype != DType::F32 {
        return Err(Error::DType {
            op: "lmul",
            what,
            dtype: v.dtype,
        });
    }
    Ok(())
}

/// `y = x · Wᵀ` (x `[M, K]`, W `[N, K]`, both f32; y `[M, N]` f32) with every product an L-Mul
/// emulating `mbits` mantissa bits (1–23).
pub fn lmul_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    mbits: u32,
) -> Result<Tensor> {
    lmul_matmul_timed(ctx, x.into(), w.into(), mbits, None)
}

pub(crate) fn lmul_matmul_timed(
    ctx: &Context,
    x: TensorView<'_>,
    w: TensorView<'_>,
    mbits: u32,
    timer: Option<&GpuTimer>,
) -> Result<Tensor> {
    check_mbits(mbits)?;
    f32_operand(ctx, &x, "x")?;
    f32_operand(ctx, &w, "W")?;
    let ((m, k), (n, kw)) = (dims2(&x, "x")?, dims2(&w, "W")?);
    if k != kw || m == 0 || n == 0 || k == 0 {
        return Err(Error::Shape(format!(
            "lmul_matmul: x is [{m}, {k}], W is [{n}, {kw}]"
        )));
    }
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            let mut y = vec![0f32; m * n];
            let (xs, ws) = (host_f32(&x), host_f32(&w));
            let (xs, ws) = (xs.expect("checked: f32 on the CPU"), ws.expect("checked"));
            lmul_gemv(cfg.level, cfg.threads, &xs, &ws, (m, n, k), mbits, &mut y)?;
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &[m, n],
            ))
        }
        Backend::Gpu(g) => {
            if g.caps.loop_limited && k / 8 > LOOP_LIMITED_STEPS {
                return Err(Error::DeviceLimit(format!(
                    "lmul_matmul: K = {k} needs {} loop steps per invocation, over this driver's limit",
                    k / 8
                )));
            }
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            let outputs = m
                .checked_mul(n)
                .ok_or_else(|| Error::Shape("M·N overflows".into()))?;
            run(g, false, (&x, &w), (outputs, n, k, m), mbits, &y, timer)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
    }
}

/// `a ⊙ b` by L-Mul (both f32, the same shape), emulating `mbits` mantissa bits.
pub fn lmul_elementwise<'a>(
    ctx: &Context,
    a: impl Into<TensorView<'a>>,
    b: impl Into<TensorView<'a>>,
    mbits: u32,
) -> Result<Tensor> {
    let (a, b) = (a.into(), b.into());
    check_mbits(mbits)?;
    f32_operand(ctx, &a, "a")?;
    f32_operand(ctx, &b, "b")?;
    if a.shape != b.shape {
        return Err(Error::Shape(format!(
            "lmul_elementwise: shapes {:?} and {:?} differ",
            a.shape, b.shape
        )));
    }
    let len: usize = a.shape.iter().product();
    match &*ctx.inner {
        Backend::Cpu(_) => {
            let (av, bv) = (host_f32(&a), host_f32(&b));
            let (av, bv) = (av.expect("checked: f32 on the CPU"), bv.expect("checked"));
            let y = av
                .iter()
                .zip(bv.iter())
                .map(|(p, q)| f32::from_bits(lmul_bits(p.to_bits(), q.to_bits(), mbits)))
                .collect();
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &a.shape,
            ))
        }
        Backend::Gpu(g) => {
            let y = g.alloc(mat_bytes(DType::F32, len, 1), "y")?;
            run(g, true, (&a, &b), (len, len, 1, 1), mbits, &y, None)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &a.shape))
        }
    }
}

/// One dispatch: `outputs` invocations; params `(n, k, m)`.
fn run(
    g: &Gpu,
    elementwise: bool,
    (a, b): (&TensorView, &TensorView),
    (outputs, n, k, m): (usize, usize, usize, usize),
    mbits: u32,
    y: &wgpu::Buffer,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let comp = variant(elementwise);
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let groups = fold_groups(g, outputs.div_ceil(64))?;
    let params = g.uniform(&[
        u32_of(n, "N")?,
        u32_of(k, "K")?,
        u32_of(m, "M")?,
        mbits,
        offset(mbits),
        groups[0],
        0,
        0,
    ])?;
    let dispatch = Dispatch {
        pipeline: &pipeline,
        bindings: vec![
            params.as_entire_binding(),
            operand_binding(g, a, "a")?,
            operand_binding(g, b, "b")?,
            whole_binding(g, y, 0, mat_bytes(DType::F32, outputs, 1), "y")?,
        ],
        groups,
    };
    g.run(&[dispatch], timer)
}

/// An f32 operand's elements as one binding.
fn operand_binding<'a>(
    g: &Gpu,
    v: &TensorView<'a>,
    what: &str,
) -> Result<wgpu::BindingResource<'a>> {
    let (buf, off) = gpu_parts(v);
    let len: usize = v.shape.iter().product();
    whole_binding(g, buf, off, mat_bytes(DType::F32, len, 1), what)
}
