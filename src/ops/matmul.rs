//! Dense mixed-precision matmul `y = x · Wᵀ`: x `[M, K]` and W `[N, K]` in f32, f16 or bf16
//! (any pair), f32 accumulation, f32 output `[M, N]`.
//!
//! Kernels: a GEMV for M <= 4 (decode) and a tiled GEMM for larger M (`shaders/gemv.wgsl`,
//! `shaders/gemm.wgsl`); on the CPU backend, `lowbit_kernels::matmul`.

use std::collections::BTreeSet;

use lowbit_kernels::{DType, MatRef};

use super::plan::{
    check_ctx, check_f32_vector, dims2, gpu_parts, host_f32, mat_bytes, run_chunks, w_chunks,
    whole_binding, Grid, LOOP_LIMITED_K_SLICE,
};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuTimer};
use crate::shaders::{Composer, F16Path, ShaderVariant, GEMM, GEMV, PARAMS};
use crate::tensor::{HostData, Tensor, TensorView, ViewData};

/// Largest M the GEMV kernel takes; larger M goes to the tiled GEMM.
pub const GEMV_MAX_M: usize = 4;

/// Longest K the GEMV takes on a loop-limited driver: its narrow shape's scalar path makes K/8
/// trips of its K loop per invocation, which must stay under llvmpipe's 65535; longer K goes to
/// the tiled GEMM, whose K is sliced over dispatches.
pub const LOOP_LIMITED_GEMV_MAX_K: usize = 65_535 * 8 - 8;

/// How many consecutive K elements one GEMV load reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loads {
    /// One element a load: any K.
    Scalar,
    /// Four elements a load (16-byte f32, 8-byte 16-bit): K % 4 == 0.
    Vec4,
    /// Eight elements a load (16 bytes of f16/bf16): K % 8 == 0, offered when an operand is 16-bit.
    Vec8,
}

impl Loads {
    fn tag(self) -> &'static str {
        match self {
            Loads::Scalar => "scalar",
            Loads::Vec4 => "vec4",
            Loads::Vec8 => "vec8",
        }
    }
}

/// How a GEMV workgroup is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GemvShape {
    /// 256 invocations over 2 rows: the GPU default (coalesced, enough warps in flight).
    Wide,
    /// 8 invocations over 16 rows: one SIMD vector of a CPU device such as llvmpipe, where the
    /// reduction then costs one subgroupAdd and no barrier, and each x load serves 16 rows
    /// (measured in shaders/README.md). Chosen by adapter type, never the GPU default.
    Narrow,
    /// Any other shape, as the autotuner (`crate::tune`) found it for this adapter.
    Tuned {
        /// Invocations (a power of two, at least 8).
        wg: u32,
        /// W rows per workgroup.
        rows: u32,
    },
}

impl GemvShape {
    /// (workgroup size, rows per workgroup); the size is a power of two for the tree reduction.
    pub fn dims(self) -> (u32, u32) {
        match self {
            GemvShape::Wide => (256, 2),
            GemvShape::Narrow => (8, 16),
            GemvShape::Tuned { wg, rows } => (wg, rows),
        }
    }
}

/// A GEMM tile: a `wg_x × wg_y` workgroup, each invocation a `tm × tn` register block, K staged
/// `bk` at a time (`shaders/gemm.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GemmTile {
    /// Workgroup width (along N).
    pub wg_x: u32,
    /// Workgroup height (along M).
    pub wg_y: u32,
    /// K elements staged per step.
    pub bk: u32,
    /// Output rows per invocation.
    pub tm: u32,
    /// Output columns per invocation.
    pub tn: u32,
}

impl GemmTile {
    /// The tile every adapter starts from.
    pub const DEFAULT: GemmTile = GemmTile {
        wg_x: 16,
        wg_y: 16,
        bk: 16,
        tm: 4,
        tn: 4,
    };

    /// Workgroup memory the tile stages, in bytes.
    pub fn staged_bytes(&self) -> u64 {
        let side = |wg: u32, t: u32| u64::from(wg) * u64::from(t);
        4 * u64::from(self.bk) * (side(self.wg_y, self.tm) + side(self.wg_x, self.tn))
    }
}

/// The two kernel shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatmulKernel {
    /// Decode GEMV, M <= 4.
    Gemv,
    /// Tiled GEMM, any M.
    Gemm,
    /// lowbit's CPU SIMD kernels.
    Cpu,
}

/// A fully specified kernel variant; [`variants`] lists those an adapter can run for a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatmulVariant {
    /// GEMV, GEMM or CPU.
    pub kernel: MatmulKernel,
    /// Subgroup reduction (GEMV only).
    pub subgroup: bool,
    /// How f16 operands are read.
    pub f16: F16Path,
    /// Elements per load (GEMV only).
    pub loads: Loads,
    /// Workgroup shape (GEMV only).
    pub shape: GemvShape,
    /// Tile (GEMM only; [`GemmTile::DEFAULT`] elsewhere).
    pub tile: GemmTile,
}

impl MatmulVariant {
    /// The same variant with its workgroup shape and tile at their defaults: what
    /// [`variants`] lists and a tuned variant must match.
    pub fn untuned(mut self) -> Self {
        if matches!(self.shape, GemvShape::Tuned { .. }) {
            self.shape = GemvShape::Wide;
        }
        self.tile = GemmTile::DEFAULT;
        self
    }

    /// The same variant with a GEMV workgroup of `wg` invocations over `rows` rows.
    pub fn with_gemv_shape(mut self, wg: u32, rows: u32) -> Self {
        self.shape = GemvShape::Tuned { wg, rows };
        self
    }

    /// The same variant with a GEMM tile.
    pub fn with_tile(mut self, tile: GemmTile) -> Self {
        self.tile = tile;
        self
    }

    /// Whether the adapter can run this variant's workgroup: invocations, workgroup memory, and
    /// what the kernels need (a power-of-two GEMV of at least 8 for its tree and llvmpipe's
    /// loop limit; the GEMM's 4×4 register block, which the K slices there are sized for).
    pub(crate) fn fits(&self, g: &Gpu) -> Result<()> {
        let l = &g.limits;
        let bad = |why: String| {
            Err(Error::Unsupported(format!(
                "variant {} does not fit this adapter: {why}",
                self.name()
            )))
        };
        match self.kernel {
            MatmulKernel::Gemv => {
                let (wg, rows) = self.shape.dims();
                let storage = 4 * u64::from(wg) * u64::from(rows) * GEMV_MAX_M as u64;
                if !wg.is_power_of_two() || wg < 8 || rows == 0 || rows > 64 {
                    return bad(format!("{wg} invocations over {rows} rows"));
                }
                if wg > l.max_compute_invocations_per_workgroup
                    || wg > l.max_compute_workgroup_size_x
                {
                    return bad(format!("{wg} invocations"));
                }
                if storage > u64::from(l.max_compute_workgroup_storage_size) {
                    return bad(format!("{storage} bytes of workgroup memory"));
                }
            }
            MatmulKernel::Gemm => {
                let t = self.tile;
                // u64: a caller's (or a cache file's) tile must not overflow the check itself.
                let n = u64::from(t.wg_x) * u64::from(t.wg_y);
                if [t.wg_x, t.wg_y, t.bk].contains(&0)
                    || (t.tm, t.tn) != (GemmTile::DEFAULT.tm, GemmTile::DEFAULT.tn)
                {
                    return bad(format!("tile {t:?} (the register block is 4×4)"));
                }
                if n > u64::from(l.max_compute_invocations_per_workgroup)
                    || t.wg_x > l.max_compute_workgroup_size_x
                    || t.wg_y > l.max_compute_workgroup_size_y
                {
                    return bad(format!("{n} invocations"));
                }
                if t.staged_bytes() > u64::from(l.max_compute_workgroup_storage_size) {
                    return bad(format!("{} bytes of workgroup memory", t.staged_bytes()));
                }
            }
            MatmulKernel::Cpu => {}
        }
        Ok(())
    }

    /// A short name for tables and reports, e.g. `gemv.vec4.sg.f16n`.
    pub fn name(&self) -> String {
        match self.kernel {
            MatmulKernel::Cpu => "cpu".into(),
            MatmulKernel::Gemm if self.tile == GemmTile::DEFAULT => {
                format!("gemm.{}", f16_tag(self.f16))
            }
            MatmulKernel::Gemm => {
                let t = self.tile;
                format!(
                    "gemm.{}.{}x{}k{}r{}x{}",
                    f16_tag(self.f16),
                    t.wg_x,
                    t.wg_y,
                    t.bk,
                    t.tm,
                    t.tn
                )
            }
            MatmulKernel::Gemv => format!(
                "gemv.{}.{}.{}.{}",
                self.loads.tag(),
                if self.subgroup { "sg" } else { "wg" },
                f16_tag(self.f16),
                match self.shape {
                    GemvShape::Wide => "wide".to_string(),
                    GemvShape::Narrow => "narrow".to_string(),
                    GemvShape::Tuned { wg, rows } => format!("t{wg}x{rows}"),
                }
            ),
        }
    }
}

fn f16_tag(p: F16Path) -> &'static str {
    match p {
        F16Path::Native => "f16n",
        F16Path::Packed => "f16p",
        F16Path::Bits => "f16b",
    }
}

fn check_float(dtype: DType, what: &'static str) -> Result<()> {
    match dtype {
        DType::F32 | DType::F16 | DType::BF16 => Ok(()),
        d => Err(Error::DType {
            op: "matmul",
            what,
            dtype: d,
        }),
    }
}

/// Every variant `ctx` can run for this problem; the first is the default.
pub fn variants(ctx: &Context, x: DType, w: DType, m: usize, k: usize) -> Vec<MatmulVariant> {
    variants_for(ctx.caps(), ctx.is_gpu(), x, w, m, k)
}

/// `y = x · Wᵀ` with the default variant. x is `[M, K]`, W is `[N, K]`, y is a new f32 `[M, N]`.
pub fn matmul<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
) -> Result<Tensor> {
    matmul_with(ctx, x, w, None)
}

/// `y = x · Wᵀ` with a chosen variant (`None` = the default). A variant the adapter cannot run,
/// or one that does not fit the shape, is an `Err`.
pub fn matmul_with<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    variant: Option<MatmulVariant>,
) -> Result<Tensor> {
    linear_with(ctx, x, w, None, variant)
}

/// `y = x · Wᵀ + bias` (a linear layer) with the default variant: the bias, f32 `[N]`, is added
/// in the kernel's epilogue (one f32 add per output, after the dot product).
pub fn linear<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    bias: Option<TensorView<'a>>,
) -> Result<Tensor> {
    linear_with(ctx, x, w, bias, None)
}

/// [`linear`] with a chosen variant (`None` = the default).
pub fn linear_with<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    bias: Option<TensorView<'a>>,
    variant: Option<MatmulVariant>,
) -> Result<Tensor> {
    let (x, w) = (x.into(), w.into());
    let (m, n, _) = check(ctx, &x, &w)?;
    if let Some(b) = &bias {
        check_f32_vector(ctx, b, "linear", "bias", n)?;
    }
    match &*ctx.inner {
        Backend::Cpu(_) => {
            let mut y = cpu(ctx, &x, &w)?;
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
        Backend::Gpu(g) => {
            let y = g.alloc(mat_bytes(DType::F32, m, n), "y")?;
            gpu(g, &x, &w, bias.as_ref(), &y, 0, variant, None)?;
            Ok(Tensor::from_buffer(ctx, y, DType::F32, &[m, n]))
        }
    }
}

/// `y = x · Wᵀ` into an existing f32 `[M, N]` GPU view (an engine's buffer), default variant.
pub fn matmul_into<'a>(
    ctx: &Context,
    x: impl Into<TensorView<'a>>,
    w: impl Into<TensorView<'a>>,
    y: TensorView<'_>,
) -> Result<()> {
    let (x, w) = (x.into(), w.into());
    let (m, n, _) = check(ctx, &x, &w)?;
    check_ctx(ctx, &y, "y")?;
    if y.dtype != DType::F32 || y.shape != [m, n] {
        return Err(Error::Shape(format!(
            "y must be f32 [{m}, {n}], got {} {:?}",
            y.dtype, y.shape
        )));
    }
    let g = ctx
        .gpu()
        .ok_or_else(|| Error::Unsupported("matmul_into writes GPU buffers only".into()))?;
    let (buf, off) = gpu_parts(&y);
    gpu(g, &x, &w, None, buf, off, None, None)
}

/// Validates operands: returns (M, N, K).
fn check(ctx: &Context, x: &TensorView, w: &TensorView) -> Result<(usize, usize, usize)> {
    check_float(x.dtype, "x")?;
    check_float(w.dtype, "w")?;
    check_ctx(ctx, x, "x")?;
    check_ctx(ctx, w, "w")?;
    let (m, k) = dims2(x, "x")?;
    let (n, kw) = dims2(w, "w")?;
    if k != kw {
        return Err(Error::Shape(format!(
            "x is [{m}, {k}] but w is [{n}, {kw}]: K differs"
        )));
    }
    Ok((m, n, k))
}

fn mat_ref<'a>(v: &TensorView<'a>) -> MatRef<'a> {
    match v.data {
        ViewData::Host(HostData::F32(d)) => MatRef::F32(d),
        ViewData::Host(HostData::F16(d)) => MatRef::F16(d),
        ViewData::Host(HostData::BF16(d)) => MatRef::BF16(d),
        _ => unreachable!("dtype and backend checked"),
    }
}

fn cpu(ctx: &Context, x: &TensorView, w: &TensorView) -> Result<Vec<f32>> {
    let cfg = ctx.cpu_config().expect("CPU context");
    let (m, k) = (x.shape[0], x.shape[1]);
    let n = w.shape[0];
    let mut y = vec![0f32; m * n];
    lowbit_kernels::matmul::matmul(&cfg, mat_ref(x), mat_ref(w), m, n, k, &mut y)?;
    Ok(y)
}

fn composer(v: MatmulVariant, x: DType, w: DType, m: usize) -> Composer {
    let mut defines = BTreeSet::new();
    let (body, consts) = match v.kernel {
        MatmulKernel::Gemv => {
            match v.loads {
                Loads::Vec8 => {
                    defines.insert("VEC8");
                }
                Loads::Vec4 => {
                    defines.insert("VEC4");
                }
                Loads::Scalar => {}
            }
            if v.subgroup {
                defines.insert("SUBGROUP");
            }
            let rows = v.shape.dims().1;
            let m = m as u32;
            (GEMV, vec![("MR", m), ("ROWS", rows), ("NACC", m * rows)])
        }
        _ => (GEMM, vec![("TM", v.tile.tm), ("TN", v.tile.tn)]),
    };
    Composer {
        name: format!(
            "matmul.{}.x{}.w{}.m{}",
            v.name(),
            x,
            w,
            if v.kernel == MatmulKernel::Gemv { m } else { 0 }
        ),
        body: vec![PARAMS, body],
        consts,
        defines,
        operands: vec![("x", 1, x), ("w", 2, w)],
        f16: v.f16,
    }
}

/// Every shader variant the matmul op can compose.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let dts = [DType::F32, DType::F16, DType::BF16];
    let mut out = Vec::new();
    for &x in &dts {
        for &w in &dts {
            let uses_f16 = x == DType::F16 || w == DType::F16;
            let f16s: &[F16Path] = if uses_f16 {
                &[F16Path::Native, F16Path::Packed, F16Path::Bits]
            } else {
                &[F16Path::Packed]
            };
            for &f16 in f16s {
                for loads in [Loads::Vec8, Loads::Vec4, Loads::Scalar] {
                    for subgroup in [true, false] {
                        for shape in [GemvShape::Wide, GemvShape::Narrow] {
                            for m in 1..=GEMV_MAX_M {
                                let v = MatmulVariant {
                                    kernel: MatmulKernel::Gemv,
                                    subgroup,
                                    f16,
                                    loads,
                                    shape,
                                    tile: GemmTile::DEFAULT,
                                };
                                out.push(composer(v, x, w, m).build());
                            }
                        }
                    }
                }
                let v = MatmulVariant {
                    kernel: MatmulKernel::Gemm,
                    subgroup: false,
                    f16,
                    loads: Loads::Scalar,
                    shape: GemvShape::Wide,
                    tile: GemmTile::DEFAULT,
                };
                out.push(composer(v, x, w, 0).build());
            }
        }
    }
    out
}

/// Records and runs the matmul on a GPU; `y` is `[M, N]` f32 at `y_off` of `y_buf`; `bias`
/// (checked: f32 `[N]`) is added in the epilogue.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gpu(
    g: &Gpu,
    x: &TensorView,
    w: &TensorView,
    bias: Option<&TensorView>,
    y_buf: &wgpu::Buffer,
    y_off: u64,
    variant: Option<MatmulVariant>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k) = (x.shape[0], x.shape[1]);
    let n = w.shape[0];
    let allowed = variants_for(g.caps, true, x.dtype, w.dtype, m, k);
    let v = match variant {
        None => crate::tune::tuned(g, allowed[0], x.dtype, w.dtype, m),
        Some(v) if allowed.contains(&v.untuned()) => {
            v.fits(g)?;
            v
        }
        Some(v) => {
            return Err(Error::Unsupported(format!(
                "variant {} does not run on this adapter for x {} w {} M={m} K={k}",
                v.name(),
                x.dtype,
                w.dtype
            )))
        }
    };
    let comp = composer(v, x.dtype, w.dtype, m);
    let wg_consts: Vec<(&str, f64)> = match v.kernel {
        MatmulKernel::Gemv => vec![("WG", v.shape.dims().0 as f64)],
        _ => vec![
            ("WG_X", v.tile.wg_x as f64),
            ("WG_Y", v.tile.wg_y as f64),
            ("BK", v.tile.bk as f64),
        ],
    };
    let pipeline = g.pipeline(&comp.name, || comp.build().source, &wg_consts)?;
    let (xb, xo) = gpu_parts(x);
    let x_bind = whole_binding(g, xb, xo, mat_bytes(x.dtype, m, k), "x")?;
    let y_bind = whole_binding(g, y_buf, y_off, mat_bytes(DType::F32, m, n), "y")?;
    let bias_bind = match bias {
        Some(b) => {
            let (bb, bo) = gpu_parts(b);
            Some(whole_binding(g, bb, bo, 4 * n as u64, "bias")?)
        }
        None => None,
    };
    let chunks = w_chunks(g, w, n, k)?;
    let grid = match v.kernel {
        MatmulKernel::Gemv => Grid::Gemv {
            rows: v.shape.dims().1 as usize,
        },
        _ => Grid::Gemm {
            bn: (v.tile.wg_x * v.tile.tn) as usize,
            bm: (v.tile.wg_y * v.tile.tm) as usize,
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
        x_bind.clone(),
        y_bind,
        // Without a bias, x's binding stands in (read-only, never read): no buffer to make.
        &[bias_bind.unwrap_or(x_bind)],
        bias.is_some(),
        timer,
    )
}

/// Shared by [`variants`] and the GPU path so the two lists cannot drift apart.
fn variants_for(
    caps: crate::gpu::Caps,
    gpu: bool,
    x: DType,
    w: DType,
    m: usize,
    k: usize,
) -> Vec<MatmulVariant> {
    if !gpu {
        return vec![MatmulVariant {
            kernel: MatmulKernel::Cpu,
            subgroup: false,
            f16: F16Path::Packed,
            loads: Loads::Scalar,
            shape: GemvShape::Wide,
            tile: GemmTile::DEFAULT,
        }];
    }
    // Preference order, best first. On CPU devices packed f16 (two halves per 32-bit load) beats
    // native f16 loads and the narrow GEMV shape wins; elsewhere native f16 and the wide shape.
    let uses_f16 = x == DType::F16 || w == DType::F16;
    let mut f16s = vec![];
    if uses_f16 && caps.shader_f16 {
        f16s.push(F16Path::Native);
    }
    f16s.push(F16Path::Packed);
    let mut shapes = vec![GemvShape::Wide, GemvShape::Narrow];
    if caps.cpu_device {
        f16s.reverse();
        shapes.reverse();
    }
    // llvmpipe GL emulates unpack2x16float at length: f16 opened by integer operations there
    // took the f16 GEMV at 4096² from 6.6–6.8 to 5.0–5.2 ms (on lavapipe it is slower).
    if uses_f16 && !caps.cheap_unpack_half {
        f16s.insert(0, F16Path::Bits);
    }
    let mut out = Vec::new();
    if m <= GEMV_MAX_M && !(caps.loop_limited && k > LOOP_LIMITED_GEMV_MAX_K) {
        let sixteen_bit = [x, w].iter().any(|d| matches!(d, DType::F16 | DType::BF16));
        let widths: &[Loads] = if k.is_multiple_of(8) && sixteen_bit {
            &[Loads::Vec8, Loads::Vec4, Loads::Scalar]
        } else if k.is_multiple_of(4) {
            &[Loads::Vec4, Loads::Scalar]
        } else {
            &[Loads::Scalar]
        };
        // On llvmpipe subgroupAdd is a masked serial loop over the lanes: with 16-bit weights the
        // narrow GEMV's 3-step workgroup tree measured faster (34.5 vs 39.5 ms at 4096²), with
        // f32 slightly slower (66 vs 61 ms); shaders/README.md.
        let sgs: &[bool] = match (caps.subgroups, caps.cpu_device && sixteen_bit) {
            (true, true) => &[false, true],
            (true, false) => &[true, false],
            (false, _) => &[false],
        };
        for &shape in &shapes {
            for &loads in widths {
                for &subgroup in sgs {
                    for &f16 in &f16s {
                        out.push(MatmulVariant {
                            kernel: MatmulKernel::Gemv,
                            subgroup,
                            f16,
                            loads,
                            shape,
                            tile: GemmTile::DEFAULT,
                        });
                    }
                }
            }
        }
    }
    for &f16 in &f16s {
        out.push(MatmulVariant {
            kernel: MatmulKernel::Gemm,
            subgroup: false,
            f16,
            loads: Loads::Scalar,
            shape: GemvShape::Wide,
            tile: GemmTile::DEFAULT,
        });
    }
    out
}
