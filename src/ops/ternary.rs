//! `ternary_matmul`: `y = x · Wᵀ (+ bias)` with W a [`TernaryMatrix`] (`lowbit_kernels::ternary`):
//! int8 x with a scale per token (BitNet's A8; the same bits on every backend) or f32 x
//! (within `ternary::f32_error_bound`). GPU: `shaders/ternary.wgsl`.

use std::collections::BTreeSet;

use lowbit_kernels::ternary::{TritPacking, UNIT};
use lowbit_kernels::DType;

use super::plan::{
    check_f32_vector, check_x_for_w, fold_groups, gpu_parts, host_f32, mat_bytes, optional_binding,
    u32_of, whole_binding,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::shader_text::{preprocess, unroll};
use crate::shaders::ShaderVariant;
use crate::tensor::{HostData, Tensor, TensorView, ViewData};
use crate::ternary::{TernaryData, TernaryMatrix};

const TERNARY: &str = include_str!("../../shaders/ternary.wgsl");

/// Rows an invocation takes in the row-per-lane form: each x load serves them all (8: TQ2_0
/// with int8 x at 4096² on lavapipe 8–12% faster than with 4, alternated).
const LANE_ROWS: u32 = 8;

/// A GPU ternary kernel variant (the CPU backend has one kernel per SIMD level).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TernaryVariant {
    /// The trits' packing.
    pub packing: TritPacking,
    /// Float activations, f32 or f16 (else int8).
    pub f32_x: bool,
    /// The float activations are f16.
    pub f16_x: bool,
    /// `dot4I8Packed` (int8 only; else x is added, complemented or skipped by byte masks and
    /// summed in 16-bit lanes).
    pub dot_native: bool,
    /// One token per workgroup (M = 1: sums in registers) instead of 4.
    pub one_token: bool,
    /// x read 16 bytes at a time (K a multiple of 16 for int8 x, of 4 for f32, of 8 for f16).
    pub x_vec4: bool,
    /// Rows per invocation, 64 a workgroup, every lane on the same unit: the default on
    /// CPU-type adapters (llvmpipe), where x's loads are shared by an invocation's eight rows;
    /// 8 lanes a row otherwise.
    pub row_lane: bool,
}

impl TernaryVariant {
    /// Short name, e.g. `ternary.bits2.i8.dp4`.
    pub fn name(&self) -> String {
        let x = if self.f16_x {
            "f16"
        } else if self.f32_x {
            "f32"
        } else if self.dot_native {
            "i8.dp4"
        } else {
            "i8.mask"
        };
        let t = if self.one_token { ".mt1" } else { "" };
        let v = if self.x_vec4 { ".v4" } else { "" };
        let l = if self.row_lane { ".lane" } else { "" };
        format!("ternary.{}.{x}{v}{l}{t}", self.packing.name())
    }

    fn shader(&self) -> ShaderVariant {
        let mut defines = BTreeSet::new();
        if self.packing == TritPacking::Base3 {
            defines.insert("BASE3");
        }
        if self.f32_x {
            defines.insert("F32X");
            if self.f16_x {
                defines.insert("F16X");
            }
        } else if self.dot_native {
            defines.insert("DOT_NATIVE");
        } else {
            defines.insert("MASKS");
        }
        if self.one_token {
            defines.insert("MT1");
        }
        if self.x_vec4 {
            defines.insert("XV4");
        }
        if self.row_lane {
            defines.insert("ROWLANE");
        }
        let source = preprocess(TERNARY, &defines);
        // Our own text: a malformed directive is a bug the catalog test meets first.
        let source = unroll(&source, &[("LR", LANE_ROWS)])
            .unwrap_or_else(|e| panic!("shader {}: {e}", self.name()));
        ShaderVariant {
            name: self.name(),
            source: format!("const LR: u32 = {LANE_ROWS}u;\n{source}"),
            needs_f16: false,
            needs_subgroups: false,
            needs_f64: false,
        }
    }
}

/// Every variant, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let mut v = Vec::new();
    for packing in [TritPacking::Bits2, TritPacking::Base3] {
        for (f32_x, f16_x, dot_native) in [
            (true, false, false),
            (true, true, false),
            (false, false, true),
            (false, false, false),
        ] {
            for one_token in [false, true] {
                for x_vec4 in [false, true] {
                    for row_lane in [false, true] {
                        v.push(
                            TernaryVariant {
                                packing,
                                f32_x,
                                f16_x,
                                dot_native,
                                one_token,
                                x_vec4,
                                row_lane,
                            }
                            .shader(),
                        );
                    }
                }
            }
        }
    }
    v
}

/// The GPU variants for `w`, x of `x_dtype` (i8, f32 or f16) and `m` tokens (the default
/// first: `dot4I8Packed`, x 16 bytes a load where K allows, one row per lane on CPU-type
/// adapters, one token per workgroup when M = 1).
pub fn variants(w: &TernaryMatrix, x_dtype: DType, m: usize) -> Vec<TernaryVariant> {
    let cpu = w.ctx.caps().cpu_device;
    let f32_x = x_dtype != DType::I8;
    let f16_x = x_dtype == DType::F16;
    // lavapipe runs the byte-mask form faster than its dot4I8Packed (8.3–12.5 against
    // 12.6–13.5 ms for TQ2_0 at 4096², alternated).
    let natives: &[bool] = match (f32_x, cpu) {
        (true, _) => &[false],
        (false, true) => &[false, true],
        (false, false) => &[true, false],
    };
    let ones: &[bool] = if m == 1 { &[true, false] } else { &[false] };
    // x rows start on 16 bytes.
    let x_per_16_bytes = match x_dtype {
        DType::F32 => 4,
        DType::F16 => 8,
        _ => 16,
    };
    let vec4s: &[bool] = if w.k.is_multiple_of(x_per_16_bytes) {
        &[true, false]
    } else {
        &[false]
    };
    let mut out = Vec::new();
    for &dot_native in natives {
        for &x_vec4 in vec4s {
            for row_lane in [cpu, !cpu] {
                for &one_token in ones {
                    out.push(TernaryVariant {
                        packing: w.packing,
                        f32_x,
                        f16_x,
                        dot_native,
                        one_token,
                        x_vec4,
                        row_lane,
                    });
                }
            }
        }
    }
    out
}

/// `y = x · Wᵀ (+ bias)`: x `[M, K]` f32 or f16, or i8 with `x_scale` f32 `[M]` (x dequantised
/// as `x·x_scale[token]`); `bias` f32 `[N]`; y f32 `[M, N]`.
pub fn ternary_matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    x_scale: Option<TensorView<'a>>,
    w: &TernaryMatrix,
    bias: Option<TensorView<'a>>,
) -> Result<Tensor> {
    ternary_matmul_timed(ctx, x.into(), x_scale, w, bias, None, None)
}

/// [`ternary_matmul`] with a chosen GPU variant (None: the default; see [`variants`]).
pub fn ternary_matmul_with(
    ctx: &Context,
    x: TensorView<'_>,
    x_scale: Option<TensorView<'_>>,
    w: &TernaryMatrix,
    bias: Option<TensorView<'_>>,
    variant: Option<TernaryVariant>,
) -> Result<Tensor> {
    ternary_matmul_timed(ctx, x, x_scale, w, bias, variant, None)
}

pub(crate) fn ternary_matmul_timed(
    ctx: &Context,
    x: TensorView<'_>,
    x_scale: Option<TensorView<'_>>,
    w: &TernaryMatrix,
    bias: Option<TensorView<'_>>,
    variant: Option<TernaryVariant>,
    timer: Option<&GpuTimer>,
) -> Result<Tensor> {
    let m = check_x_for_w(ctx, &x, &w.ctx, format_args!(""), (w.n, w.k))?;
    match (x.dtype, &x_scale) {
        (DType::F32 | DType::F16, None) | (DType::I8, Some(_)) => {}
        (DType::F32 | DType::F16, Some(_)) => {
            return Err(Error::InvalidArgument(
                "ternary_matmul: float x takes no x_scale".into(),
            ))
        }
        (DType::I8, None) => {
            return Err(Error::InvalidArgument(
                "ternary_matmul: int8 x needs x_scale (f32, one per token)".into(),
            ))
        }
        (d, _) => {
            return Err(Error::DType {
                op: "ternary_matmul",
                what: "x",
                dtype: d,
            })
        }
    }
    for (what, v, len) in [("x_scale", &x_scale, m), ("bias", &bias, w.n)] {
        if let Some(v) = v {
            check_f32_vector(ctx, v, "ternary_matmul", what, len)?;
        }
    }
    let n = w.n;
    match (&*ctx.inner, &w.data) {
        (Backend::Cpu(cfg), TernaryData::Host(tw)) => {
            let xs = x_scale.as_ref().and_then(|v| host_f32(v));
            let b = bias.as_ref().and_then(|v| host_f32(v));
            let mut y = vec![0f32; m * n];
            match &x.data {
                ViewData::Host(HostData::F32(_) | HostData::F16(_)) => {
                    // f16 widens to f32 exactly.
                    let xf = host_f32(&x).expect("checked: float x on the host");
                    lowbit_kernels::ternary::ternary_matmul_f32(
                        cfg.threads,
                        tw,
                        &xf,
                        m,
                        b.as_deref(),
                        &mut y,
                    )?
                }
                ViewData::Host(HostData::I8(v)) => lowbit_kernels::ternary::ternary_matmul_i8_at(
                    cfg.level,
                    cfg.threads,
                    tw,
                    v,
                    xs.as_deref().expect("checked: int8 x has scales"),
                    b.as_deref(),
                    &mut y,
                )?,
                _ => unreachable!("checked dtype and context"),
            }
            Ok(Tensor::from_host(
                ctx,
                HostData::F32(y),
                DType::F32,
                &[m, n],
            ))
        }
        (Backend::Gpu(g), TernaryData::Gpu { codes, scales }) => {
            // Only the variants made for this x, M and W (x's 16-byte loads need K to allow
            // them, for one).
            let fits = variants(w, x.dtype, m);
            let variant = variant.unwrap_or(fits[0]);
            if !fits.contains(&variant) {
                return Err(Error::InvalidArgument(format!(
                    "ternary variant {} does not fit {} x, M = {m} and {} weights",
                    variant.name(),
                    x.dtype.name(),
                    w.packing.name()
                )));
            }
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            let ops = Operands {
                x: &x,
                x_scale: x_scale.as_ref(),
                bias: bias.as_ref(),
                codes,
                scales,
            };
            gpu(g, &ops, w, variant, &y, timer)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
        _ => unreachable!("a TernaryMatrix's data matches its context"),
    }
}

struct Operands<'a, 'b> {
    x: &'a TensorView<'b>,
    x_scale: Option<&'a TensorView<'b>>,
    bias: Option<&'a TensorView<'b>>,
    codes: &'a wgpu::Buffer,
    scales: &'a wgpu::Buffer,
}

fn gpu(
    g: &Gpu,
    o: &Operands,
    w: &TernaryMatrix,
    variant: TernaryVariant,
    y: &wgpu::Buffer,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k, n) = (o.x.shape[0], o.x.shape[1], w.n);
    let comp = variant.shader();
    let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
    let groups = fold_groups(g, n.div_ceil(if variant.row_lane { 64 } else { 8 }))?;
    let passes = m.div_ceil(if variant.one_token { 1 } else { 4 });
    let max = g.limits.max_compute_workgroups_per_dimension as usize;
    if passes > max {
        return Err(Error::DeviceLimit(format!(
            "ternary_matmul: {m} tokens need {passes} passes, over the device's {max}"
        )));
    }
    let units_per_group = if w.groups == 1 {
        w.units
    } else {
        w.k / w.groups / UNIT
    };
    let params = g.uniform(&[
        u32_of(n, "N")?,
        u32_of(m, "M")?,
        u32_of(k, "K")?,
        u32_of(w.units, "units")?,
        u32_of(units_per_group, "units per group")?,
        u32_of(w.groups, "groups")?,
        u32_of(w.planes, "planes")?,
        u32_of(w.row_bytes / 4, "row words")?,
        groups[0],
        u32::from(o.bias.is_some()),
        0,
        0,
    ])?;
    let mut zero = None;
    let (xb, xo) = gpu_parts(o.x);
    let mut bindings = vec![
        params.as_entire_binding(),
        whole_binding(g, o.codes, 0, o.codes.size(), "ternary codes")?,
        whole_binding(g, o.scales, 0, o.scales.size(), "ternary scales")?,
        optional_binding(g, o.bias, &mut zero, n, "bias")?,
        whole_binding(g, xb, xo, mat_bytes(o.x.dtype, m, k), "x")?,
    ];
    if let Some(s) = o.x_scale {
        let (sb, so) = gpu_parts(s);
        bindings.push(whole_binding(g, sb, so, 4 * m as u64, "x_scale")?);
    }
    bindings.push(whole_binding(g, y, 0, mat_bytes(DType::F32, m, n), "y")?);
    let dispatch = Dispatch {
        pipeline: &pipeline,
        bindings,
        groups: [groups[0], groups[1], passes as u32],
    };
    g.run(&[dispatch], timer)
}
