//! The adapter's own ceilings, measured by the command that reports against them: read and copy
//! bandwidth, and f32 fma, f16 fma and int8 dot-product throughput from registers. They are the
//! roofline every bench result is placed under (`bench::Roofline`). Each is the fastest run
//! (a shared machine's noise only slows runs down); measured once per adapter and process.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use crate::bandwidth::read_bound;
use crate::context::{Backend, Context};
use crate::error::Result;
use crate::gpu::{Dispatch, Gpu};
use crate::measure::{fastest, measure_gpu_runs, measure_wall_runs, Timing};
use crate::memo::{memoized, Memo};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;

const PEAK: &str = include_str!("../shaders/peak.wgsl");

/// Bytes the bandwidth ceilings stream: past every cache of the machines lowbit meets.
const STREAM_BYTES: usize = 64 << 20;

/// One adapter's ceilings.
#[derive(Clone, Debug, Serialize)]
pub struct Ceilings {
    /// Adapter name.
    pub adapter: String,
    /// `vulkan`, `gl`, ..., or `cpu`.
    pub backend: String,
    /// Streaming read, GB/s (the best layout).
    pub read_gbps: f64,
    /// Copy: bytes read plus bytes written, GB/s.
    pub copy_gbps: f64,
    /// f32 multiply-adds, GFLOP/s (2 per fma).
    pub f32_gflops: f64,
    /// f16 multiply-adds, GFLOP/s, where the adapter computes in f16 (shader-f16).
    pub f16_gflops: Option<f64>,
    /// int8 multiply-adds by `dot4I8Packed` (CPU: `vpdpbusd` or `vpmaddubsw`), GOP/s.
    pub int8_gops: Option<f64>,
    /// How they were timed.
    pub timing: String,
}

fn variant(kind: &str) -> ShaderVariant {
    let defines = BTreeSet::from([kind]);
    ShaderVariant {
        name: format!("peak_{}", kind.to_ascii_lowercase()),
        source: preprocess(PEAK, &defines),
        needs_f16: kind == "F16",
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every ceiling kernel, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    ["F32", "F16", "DOT4", "COPY"].map(variant).to_vec()
}

/// The ceilings of `ctx`, measured on first use in this process (each for `budget` at most).
pub fn ceilings(ctx: &Context, budget: Duration) -> Result<Ceilings> {
    static MEMO: Memo<String, Ceilings> = Memo::new(None);
    memoized(&MEMO, ctx.info().key(), || measure_ceilings(ctx, budget))
}

/// Measures every ceiling of `ctx` now.
pub fn measure_ceilings(ctx: &Context, budget: Duration) -> Result<Ceilings> {
    let read = read_bound(ctx, STREAM_BYTES, budget)?;
    let info = ctx.info();
    let (adapter, backend) = (info.name, info.backend);
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            use lowbit_kernels::peak::{f32_fma_burst, int8_dot_burst};
            let iters = if cfg.level == lowbit_kernels::SimdLevel::Scalar {
                1 << 16
            } else {
                1 << 20
            };
            let rate = |burst: &dyn Fn() -> lowbit_kernels::peak::Burst| -> Result<f64> {
                let ops = burst().ops as f64;
                let (secs, _) = fastest(measure_wall_runs(budget, || {
                    std::hint::black_box(burst());
                    Ok(())
                }))?;
                Ok(ops / secs / 1e9)
            };
            let src = vec![1f32; STREAM_BYTES / 4];
            let mut dst = vec![0f32; STREAM_BYTES / 4];
            let (copy_secs, _) = fastest(measure_wall_runs(budget, || {
                lowbit_kernels::bandwidth::copy(cfg, &src, &mut dst)?;
                std::hint::black_box(&dst);
                Ok(())
            }))?;
            Ok(Ceilings {
                adapter,
                backend,
                read_gbps: read.gbps(),
                copy_gbps: 2.0 * STREAM_BYTES as f64 / copy_secs / 1e9,
                f32_gflops: rate(&|| f32_fma_burst(cfg, iters))?,
                // The CPU kernels widen f16 to f32: there is no f16 ceiling of their own.
                f16_gflops: None,
                int8_gops: Some(rate(&|| int8_dot_burst(cfg, iters))?),
                timing: Timing::Wall.name().into(),
            })
        }
        Backend::Gpu(g) => {
            let (f32_gflops, timing) = gpu_rate(g, "F32", budget)?;
            let f16_gflops = if g.caps.shader_f16 {
                Some(gpu_rate(g, "F16", budget)?.0)
            } else {
                None
            };
            Ok(Ceilings {
                adapter,
                backend,
                read_gbps: read.gbps(),
                copy_gbps: gpu_copy(g, budget)?,
                f32_gflops,
                f16_gflops,
                int8_gops: Some(gpu_rate(g, "DOT4", budget)?.0),
                timing: timing.name().into(),
            })
        }
    }
}

/// (workgroups, iterations): enough to fill a GPU; CPU devices run every invocation in turn.
fn grid(g: &Gpu) -> (u32, u32) {
    if g.caps.cpu_device {
        (32, 1024)
    } else {
        (2048, 4096)
    }
}

/// GFLOP/s (GOP/s) of the `kind` kernel.
fn gpu_rate(g: &Gpu, kind: &str, budget: Duration) -> Result<(f64, Timing)> {
    let v = variant(kind);
    let pipeline = g.pipeline(&v.name, || v.source.clone(), &[])?;
    let (groups, iters) = grid(g);
    let invocations = u64::from(groups) * 256;
    let out = g.alloc(invocations * 4, "peak out")?;
    let params = g.uniform(&[iters, 0, 0, 0])?;
    let (secs, timing) = fastest(measure_gpu_runs(g, budget, |timer| {
        g.run(
            &[Dispatch {
                pipeline: &pipeline,
                bindings: vec![params.as_entire_binding(), out.as_entire_binding()],
                groups: [groups, 1, 1],
            }],
            timer,
        )
    }))?;
    // 8 chains of 4 lanes (or 4 byte pairs), 2 operations per multiply-add.
    let ops = (invocations * u64::from(iters) * 8 * 4 * 2) as f64;
    Ok((ops / secs / 1e9, timing))
}

/// GB/s of a grid-stride vec4 copy, counting bytes read and written.
fn gpu_copy(g: &Gpu, budget: Duration) -> Result<f64> {
    let v = variant("COPY");
    let pipeline = g.pipeline(&v.name, || v.source.clone(), &[])?;
    let n4 = (STREAM_BYTES / 16) as u32;
    let src = g.upload(&vec![0u8; STREAM_BYTES], "copy src")?;
    let dst = g.alloc(STREAM_BYTES as u64, "copy dst")?;
    let groups = 1024u32;
    let params = g.uniform(&[0, n4, groups * 256, 0])?;
    let (secs, _) = fastest(measure_gpu_runs(g, budget, |timer| {
        g.run(
            &[Dispatch {
                pipeline: &pipeline,
                bindings: vec![
                    params.as_entire_binding(),
                    src.as_entire_binding(),
                    dst.as_entire_binding(),
                ],
                groups: [groups, 1, 1],
            }],
            timer,
        )
    }))?;
    Ok(2.0 * STREAM_BYTES as f64 / secs / 1e9)
}
