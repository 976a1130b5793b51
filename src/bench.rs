//! `lowbit bench`: one op timed on one context, with side-by-side ratios from the same run:
//! against a baseline backend and against the read-bandwidth bound measured on the same adapter.

use std::time::Duration;

use lowbit_kernels::{CpuConfig, DType, SimdLevel};
use serde::Serialize;

use crate::bandwidth::{read_op, ReadBound};
use crate::ceilings::{ceilings, Ceilings};
use crate::context::{Backend, Context};
use crate::error::Result;
use crate::measure::{measure_alternating, measure_op_runs, Measured, TimedOp, Timing};
use crate::ops::matmul as mm;
use crate::tensor::Tensor;

/// A baseline timed in the same run.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// What the baseline is (`cpu-simd`, `cpu-scalar`, ...).
    pub name: String,
    /// Its median time.
    pub time_ms: f64,
    /// Baseline time ÷ our time: above 1 means lowbit's kernel is faster.
    pub speedup: f64,
}

impl Baseline {
    /// A baseline that took `secs`, against our kernel's `ours` seconds.
    pub fn new(name: impl Into<String>, secs: f64, ours: f64) -> Self {
        Baseline {
            name: name.into(),
            time_ms: secs * 1e3,
            speedup: secs / ours,
        }
    }
}

/// What one timed op was: the parts of a [`BenchResult`] its bench decides.
pub(crate) struct Run {
    pub op: &'static str,
    pub variant: String,
    pub x_dtype: String,
    pub w_dtype: String,
    pub shape: (usize, usize, usize),
    pub time: Measured,
    /// Bytes a run moves, for `gbps`.
    pub moved: f64,
    /// The read bound timed beside the op ([`side_by_side`]).
    pub bound: ReadBound,
}

/// Seeded values in [−1, 1) (the benches' operands).
pub(crate) fn seeded_signed(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// One bench result; every `lowbit bench` op uses this schema.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// Operation.
    pub op: String,
    /// Adapter name.
    pub adapter: String,
    /// `vulkan`, `gl`, ..., or `cpu`.
    pub backend: String,
    /// Driver (or SIMD level).
    pub driver: String,
    /// Kernel variant.
    pub variant: String,
    /// Activation dtype.
    pub x_dtype: String,
    /// Weight dtype.
    pub w_dtype: String,
    /// Rows of x.
    pub m: usize,
    /// Rows of W.
    pub n: usize,
    /// Shared dimension.
    pub k: usize,
    /// `gpu-timestamp` or `wall`.
    pub timing: String,
    /// Median time per run.
    pub time_ms: f64,
    /// Fastest run.
    pub min_ms: f64,
    /// Slowest run.
    pub max_ms: f64,
    /// Timed runs (after one warm-up).
    pub runs: usize,
    /// 2·M·N·K / time.
    pub gflops: f64,
    /// Bytes the op moves (the op's own count: W, and x and y where it counts them) / time.
    pub gbps: f64,
    /// Read bandwidth the same adapter reached with the streaming-read kernel over W's bytes.
    pub bound_gbps: f64,
    /// The roofline: intensity, ceilings, the bound the op is under.
    pub roofline: Roofline,
    /// gflops ÷ the roofline's attainable rate (for a memory-bound op, gbps ÷ bound_gbps).
    pub fraction_of_bound: f64,
    /// How the bound was timed.
    pub bound_timing: String,
    /// The streaming layout that set the bound.
    pub bound_layout: String,
    /// Baselines timed in the same run.
    pub baselines: Vec<Baseline>,
    /// The adapter's ceilings the roofline uses.
    pub ceilings: Ceilings,
}

/// Where a result sits under its adapter's roofline.
#[derive(Clone, Debug, Serialize)]
pub struct Roofline {
    /// Operations per byte moved (2·M·N·K ÷ the op's bytes).
    pub intensity: f64,
    /// The compute ceiling that applies: `f32` (fma) or `int8` (dot products).
    pub compute: String,
    /// That ceiling, GFLOP/s (GOP/s), measured on the adapter.
    pub compute_gflops: f64,
    /// `memory` (intensity × read bandwidth below the compute ceiling) or `compute`.
    pub bound: String,
    /// The lower of the two: what the op could reach, GFLOP/s.
    pub attainable_gflops: f64,
}

impl Roofline {
    /// The roofline of an op doing `flops` over `bytes`, against `read_gbps` and the ceilings.
    pub fn of(flops: f64, bytes: f64, read_gbps: f64, int8: bool, c: &Ceilings) -> Self {
        let intensity = flops / bytes.max(1.0);
        let (compute, compute_gflops) = match (int8, c.int8_gops) {
            (true, Some(g)) => ("int8", g),
            _ => ("f32", c.f32_gflops),
        };
        let memory = intensity * read_gbps;
        Roofline {
            intensity,
            compute: compute.into(),
            compute_gflops,
            bound: if memory <= compute_gflops {
                "memory"
            } else {
                "compute"
            }
            .into(),
            attainable_gflops: memory.min(compute_gflops),
        }
    }
}

impl BenchResult {
    /// The result of `run` on `ctx`: its read bound over W's bytes (timed beside it), the
    /// adapter's ceilings (measured once per process), and the `baselines` already timed.
    pub(crate) fn measured(
        ctx: &Context,
        run: Run,
        budget: Duration,
        baselines: Vec<Baseline>,
    ) -> Result<Self> {
        let bound = run.bound;
        let ceilings = ceilings(ctx, budget.min(Duration::from_millis(500)))?;
        let (m, n, k) = run.shape;
        let secs = run.time.median;
        let gbps = run.moved / secs / 1e9;
        let flops = 2.0 * (m * n * k) as f64;
        let gflops = flops / secs / 1e9;
        // int8 arithmetic: int8 activations, or the quantized matmul's int8 route.
        let int8 = run.x_dtype == "i8" || run.variant.starts_with("int8");
        let roofline = Roofline::of(flops, run.moved, bound.gbps(), int8, &ceilings);
        let info = ctx.info();
        Ok(BenchResult {
            op: run.op.into(),
            adapter: info.name,
            backend: info.backend,
            driver: info.driver,
            variant: run.variant,
            x_dtype: run.x_dtype,
            w_dtype: run.w_dtype,
            m,
            n,
            k,
            timing: run.time.timing.name().into(),
            time_ms: secs * 1e3,
            min_ms: run.time.min * 1e3,
            max_ms: run.time.max * 1e3,
            runs: run.time.runs,
            gflops,
            gbps,
            bound_gbps: bound.gbps(),
            fraction_of_bound: gflops / roofline.attainable_gflops,
            roofline,
            bound_timing: bound.timing.name().into(),
            bound_layout: bound.layout.clone(),
            baselines,
            ceilings,
        })
    }
}

fn seeded(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

/// `data` uploaded as `dtype`: f16 or bf16 rounded to nearest, f32 (any other dtype) as is.
pub(crate) fn tensor_of(
    ctx: &Context,
    dtype: DType,
    data: &[f32],
    shape: &[usize],
) -> Result<Tensor> {
    match dtype {
        DType::F16 => {
            let h: Vec<half::f16> = data.iter().map(|&v| half::f16::from_f32(v)).collect();
            Tensor::from_slice(ctx, &h, shape)
        }
        DType::BF16 => {
            let h: Vec<half::bf16> = data.iter().map(|&v| half::bf16::from_f32(v)).collect();
            Tensor::from_slice(ctx, &h, shape)
        }
        _ => Tensor::from_slice(ctx, data, shape),
    }
}

/// Times `y = x · Wᵀ` on `ctx` once warmed up; returns (median seconds, timing, variant name).
pub fn time_matmul(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    variant: Option<&str>,
    budget: Duration,
) -> Result<(f64, Timing, String)> {
    let (m, v) = time_matmul_runs(ctx, x, w, variant, budget)?;
    Ok((m.median, m.timing, v))
}

/// [`time_matmul`] with every statistic of the runs.
pub fn time_matmul_runs(
    ctx: &Context,
    x: &Tensor,
    w: &Tensor,
    variant: Option<&str>,
    budget: Duration,
) -> Result<(Measured, String)> {
    let (op, name) = matmul_op(ctx, x, w, variant)?;
    Ok((measure_op_runs(ctx, budget, op)?, name))
}

/// The dense matmul `x · wᵀ` by `variant` (None: the default) as an op to time, with the
/// variant's name.
pub(crate) fn matmul_op<'a>(
    ctx: &'a Context,
    x: &'a Tensor,
    w: &'a Tensor,
    variant: Option<&str>,
) -> Result<(TimedOp<'a>, String)> {
    let (m, k) = (x.shape()[0], x.shape()[1]);
    let n = w.shape()[0];
    let all = mm::variants(ctx, x.dtype(), w.dtype(), m, k);
    let variant = match variant {
        None => all[0],
        Some(name) => *all.iter().find(|v| v.name() == name).ok_or_else(|| {
            crate::Error::Unsupported(format!(
                "variant '{name}' does not run here; choose one of: {}",
                all.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
            ))
        })?,
    };
    let op: TimedOp<'a> = match &*ctx.inner {
        Backend::Cpu(_) => Box::new(move |_| mm::matmul(ctx, x, w).map(|_| ())),
        Backend::Gpu(g) => {
            let y = g.alloc((m * n * 4) as u64, "y")?;
            let (xv, wv) = (x.view(), w.view());
            Box::new(move |timer| mm::gpu(g, &xv, &wv, None, &y, 0, Some(variant), timer))
        }
    };
    Ok((op, variant.name()))
}

/// The bytes a read bound streams for an op whose W has `w_bytes` (at least 1 MiB).
fn bound_bytes(w_bytes: usize) -> usize {
    w_bytes.max(1 << 20)
}

/// Times `ours`, a streaming read of W's `w_bytes` ([`read_op`]) and the named baseline ops in
/// alternation ([`measure_alternating`]): our runs, the read bound (median of its runs, so the
/// fraction of it compares like with like: the same statistic, cache state and machine
/// spells), and each baseline's median against ours.
pub(crate) fn side_by_side<'a>(
    ctx: &'a Context,
    budget: Duration,
    ours: TimedOp<'a>,
    baselines: Vec<(String, TimedOp<'a>)>,
    w_bytes: usize,
) -> Result<(Measured, Vec<Baseline>, ReadBound)> {
    let (read, layout, read_bytes) = read_op(ctx, bound_bytes(w_bytes), budget)?;
    let (names, mut ops): (Vec<String>, Vec<TimedOp<'a>>) = [(String::new(), ours)]
        .into_iter()
        .chain(std::iter::once((String::new(), read)))
        .chain(baselines)
        .unzip();
    let times = measure_alternating(ctx, budget, &mut ops)?;
    let (ours, read) = (times[0], times[1]);
    let baselines = names
        .into_iter()
        .zip(&times)
        .skip(2)
        .map(|(name, t)| Baseline::new(name, t.median, ours.median))
        .collect();
    let bound = ReadBound {
        bytes: read_bytes,
        seconds: read.median,
        timing: read.timing,
        layout: format!("{layout}, beside"),
    };
    Ok((ours, baselines, bound))
}

/// Benchmarks the dense matmul with the given dtypes and shape.
pub fn bench_matmul(
    ctx: &Context,
    x_dtype: DType,
    w_dtype: DType,
    (m, n, k): (usize, usize, usize),
    variant: Option<&str>,
    budget: Duration,
) -> Result<BenchResult> {
    let xs = seeded(m * k, 1);
    let ws = seeded(n * k, 2);
    let x = tensor_of(ctx, x_dtype, &xs, &[m, k])?;
    let w = tensor_of(ctx, w_dtype, &ws, &[n, k])?;
    let w_bytes = n * k * w_dtype.size_bytes();
    let (op, variant) = matmul_op(ctx, &x, &w, variant)?;
    let (time, _, bound) = side_by_side(ctx, budget, op, vec![], w_bytes)?;
    let secs = time.median;
    let bytes = (m * k * x_dtype.size_bytes() + w_bytes + m * n * 4) as f64;

    // The baseline: the CPU SIMD backend for a GPU adapter; the scalar CPU kernels for the CPU.
    let (base_name, base_ctx) = if ctx.is_gpu() {
        ("cpu-simd", Context::cpu())
    } else {
        let threads = ctx.cpu_config().map_or(1, |c| c.threads);
        (
            "cpu-scalar",
            Context::cpu_with(CpuConfig {
                level: SimdLevel::Scalar,
                threads,
            }),
        )
    };
    let bx = tensor_of(&base_ctx, x_dtype, &xs, &[m, k])?;
    let bw = tensor_of(&base_ctx, w_dtype, &ws, &[n, k])?;
    let (base_secs, _, _) = time_matmul(&base_ctx, &bx, &bw, None, budget)?;

    let run = Run {
        op: "matmul",
        variant,
        x_dtype: x_dtype.name().into(),
        w_dtype: w_dtype.name().into(),
        shape: (m, n, k),
        time,
        moved: bytes,
        bound,
    };
    BenchResult::measured(
        ctx,
        run,
        budget,
        vec![Baseline::new(base_name, base_secs, secs)],
    )
}
