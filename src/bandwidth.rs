//! Read-bandwidth bounds measured on the adapter itself: the ceiling a memory-bound kernel
//! (a GEMV) is reported against. GPU: `shaders/stream_read.wgsl`; CPU:
//! `lowbit_kernels::bandwidth::read_sum`.

use std::collections::BTreeSet;

use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::measure::{fastest, measure_gpu_runs, measure_wall_runs, Timing};
use crate::memo::{memoized, Memo};
use crate::shaders::{Composer, F16Path, ShaderVariant, STREAM_READ};

/// Streaming layouts tried: (chunked, workgroup size, workgroups).
const LAYOUTS: &[(bool, u32, u32)] = &[
    (false, 256, 1024),
    (true, 8, 64),
    (true, 8, 1024),
    (true, 64, 256),
];

/// A measured read bound.
#[derive(Clone, Debug)]
pub struct ReadBound {
    /// Bytes read per run.
    pub bytes: u64,
    /// Seconds of the fastest run (a bound is the best the adapter showed).
    pub seconds: f64,
    /// How the time was taken.
    pub timing: Timing,
    /// The layout that was fastest (GPU) or `simd` (CPU).
    pub layout: String,
}

impl ReadBound {
    /// GB/s (10⁹ bytes per second).
    pub fn gbps(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e9
    }
}

fn composer(chunked: bool) -> Composer {
    let mut defines = BTreeSet::new();
    if chunked {
        defines.insert("CHUNK");
    }
    Composer {
        name: format!("stream_read.{}", if chunked { "chunk" } else { "grid" }),
        body: vec![STREAM_READ],
        consts: vec![],
        defines,
        operands: vec![],
        f16: F16Path::Packed,
    }
}

pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    vec![composer(false).build(), composer(true).build()]
}

/// [`read_bound`], measured once per adapter and size in this process: a suite asks for the
/// same sizes again and again.
pub fn read_bound_cached(
    ctx: &Context,
    bytes: usize,
    budget: std::time::Duration,
) -> Result<ReadBound> {
    static MEMO: Memo<(String, usize), ReadBound> = Memo::new(None);
    memoized(&MEMO, (ctx.info().key(), bytes), || {
        read_bound(ctx, bytes, budget)
    })
}

/// Measures how fast `ctx` streams `bytes` bytes (rounded down to whole vec4s) from memory:
/// the best of several layouts on a GPU, each given `budget`.
pub fn read_bound(ctx: &Context, bytes: usize, budget: std::time::Duration) -> Result<ReadBound> {
    let n4 = bytes / 16;
    if n4 == 0 {
        return Err(Error::Shape("read_bound needs at least 16 bytes".into()));
    }
    let data: Vec<f32> = (0..n4 * 4).map(|i| (i % 7) as f32).collect();
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            let (seconds, timing) = fastest(measure_wall_runs(budget, || {
                std::hint::black_box(lowbit_kernels::bandwidth::read_sum(cfg, &data));
                Ok(())
            }))?;
            Ok(ReadBound {
                bytes: (n4 * 16) as u64,
                seconds,
                timing,
                layout: "simd".into(),
            })
        }
        Backend::Gpu(g) => {
            let src = g.upload(bytemuck::cast_slice(&data), "stream")?;
            let n4 = u32::try_from(n4)
                .map_err(|_| Error::DeviceLimit("stream buffer too large".into()))?;
            let mut best: Option<ReadBound> = None;
            for &(chunked, wg, groups) in LAYOUTS {
                let threads = wg * groups;
                let sums = g.alloc(threads as u64 * 4, "sums")?;
                let params = g.uniform(&[n4, threads, n4.div_ceil(groups), 0])?;
                let comp = composer(chunked);
                let pipeline = g.pipeline(
                    &format!("{}.{wg}", comp.name),
                    || comp.build().source,
                    &[("WG", wg as f64)],
                )?;
                let (seconds, timing) = fastest(measure_gpu_runs(g, budget, |timer| {
                    g.run(
                        &[crate::gpu::Dispatch {
                            pipeline: &pipeline,
                            bindings: vec![
                                params.as_entire_binding(),
                                src.as_entire_binding(),
                                sums.as_entire_binding(),
                            ],
                            groups: [groups, 1, 1],
                        }],
                        timer,
                    )
                }))?;
                if best.as_ref().is_none_or(|b| seconds < b.seconds) {
                    let layout = format!(
                        "{}.wg{wg}.g{groups}",
                        if chunked { "chunk" } else { "grid" }
                    );
                    best = Some(ReadBound {
                        bytes: n4 as u64 * 16,
                        seconds,
                        timing,
                        layout,
                    });
                }
            }
            Ok(best.expect("at least one layout"))
        }
    }
}
