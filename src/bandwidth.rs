//! Read-bandwidth bounds measured on the adapter itself: the ceiling a memory-bound kernel
//! (a GEMV) is reported against. GPU: `shaders/stream_read.wgsl`; CPU:
//! `lowbit_kernels::bandwidth::read_sum`.

use std::collections::BTreeSet;

use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::measure::{fastest, measure_gpu_runs, measure_wall_runs, TimedOp, Timing};
use crate::memo::{memoized, Memo};
use crate::shaders::{Composer, F16Path, ShaderVariant, STREAM_READ};

/// How the streaming kernel walks the buffer (`shaders/stream_read.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Walk {
    /// Grid-stride: neighbouring invocations read neighbouring vec4s.
    Grid,
    /// A contiguous range per workgroup.
    Chunk,
    /// [`STREAMS`] segments, a workgroup reading the same range of each, one load from every
    /// segment per step.
    Streams,
}

/// Segments of the [`Walk::Streams`] layout: the narrow GEMV's rows per workgroup.
const STREAMS: u32 = 16;

/// Streaming layouts tried: (walk, workgroup size, workgroups).
const LAYOUTS: &[(Walk, u32, u32)] = &[
    (Walk::Grid, 256, 1024),
    (Walk::Chunk, 8, 64),
    (Walk::Chunk, 8, 1024),
    (Walk::Chunk, 64, 256),
    (Walk::Streams, 8, 256),
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

fn composer(walk: Walk) -> Composer {
    let mut defines = BTreeSet::new();
    let mut consts = vec![];
    let name = match walk {
        Walk::Grid => "grid",
        Walk::Chunk => {
            defines.insert("CHUNK");
            "chunk"
        }
        Walk::Streams => {
            defines.insert("STREAMS");
            consts.push(("STREAMS", STREAMS));
            "streams"
        }
    };
    Composer {
        name: format!("stream_read.{name}"),
        body: vec![STREAM_READ],
        consts,
        defines,
        operands: vec![],
        f16: F16Path::Packed,
    }
}

pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    [Walk::Grid, Walk::Chunk, Walk::Streams]
        .into_iter()
        .map(|w| composer(w).build())
        .collect()
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

/// The floats a streaming read of `bytes` bytes sums: whole vec4s, at least one.
fn stream_data(bytes: usize) -> Result<Vec<f32>> {
    let n4 = bytes / 16;
    if n4 == 0 {
        return Err(Error::Shape(
            "a streaming read needs at least 16 bytes".into(),
        ));
    }
    Ok((0..n4 * 4).map(|i| (i % 7) as f32).collect())
}

/// Measures how fast `ctx` streams `bytes` bytes (rounded down to whole vec4s) from memory:
/// the best of several layouts on a GPU, each given `budget`.
pub fn read_bound(ctx: &Context, bytes: usize, budget: std::time::Duration) -> Result<ReadBound> {
    let data = stream_data(bytes)?;
    let n4 = data.len() / 4;
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
            let mut best: Option<ReadBound> = None;
            for &layout in LAYOUTS {
                let (mut op, bytes) = stream_op(g, &data, layout)?;
                let (seconds, timing) = fastest(measure_gpu_runs(g, budget, &mut op))?;
                if best.as_ref().is_none_or(|b| seconds < b.seconds) {
                    best = Some(ReadBound {
                        bytes,
                        seconds,
                        timing,
                        layout: layout_name(layout),
                    });
                }
            }
            Ok(best.expect("at least one layout"))
        }
    }
}

fn layout_name((walk, wg, groups): (Walk, u32, u32)) -> String {
    format!("{}.wg{wg}.g{groups}", format!("{walk:?}").to_lowercase())
}

/// `data` uploaded and the streaming kernel in `layout` over it, as an op to time, with the
/// bytes one run reads.
fn stream_op<'a>(g: &'a Gpu, data: &[f32], layout: (Walk, u32, u32)) -> Result<(TimedOp<'a>, u64)> {
    let (walk, wg, groups) = layout;
    let src = g.upload(bytemuck::cast_slice(data), "stream")?;
    let vec4s = u32::try_from(data.len() / 4)
        .map_err(|_| Error::DeviceLimit("stream buffer too large".into()))?;
    // Vec4s per segment: the whole buffer, or one of STREAMS equal segments (the tail past
    // them is not read).
    let segments = if walk == Walk::Streams { STREAMS } else { 1 };
    let n4 = vec4s / segments;
    if n4 == 0 {
        return Err(Error::Shape(
            "stream buffer too small for its layout".into(),
        ));
    }
    let read = u64::from(n4 * segments) * 16;
    let threads = wg * groups;
    let sums = g.alloc(threads as u64 * 4, "sums")?;
    let params = g.uniform(&[n4, threads, n4.div_ceil(groups), 0])?;
    let comp = composer(walk);
    let pipeline = g.pipeline(
        &format!("{}.{wg}", comp.name),
        || comp.build().source,
        &[("WG", wg as f64)],
    )?;
    let op: TimedOp<'a> = Box::new(move |timer| {
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
    });
    Ok((op, read))
}

/// A streaming read of `bytes` bytes (rounded down to whole vec4s) on `ctx` as an op, to be
/// timed beside a kernel ([`crate::bench::side_by_side`]) so that both meet the same cache
/// state and the same spells of a shared machine: the CPU's SIMD sum, or on a GPU the layout
/// [`read_bound_cached`] found fastest there. Returns the op, its layout's name and the bytes
/// one run reads.
pub(crate) fn read_op<'a>(
    ctx: &'a Context,
    bytes: usize,
    budget: std::time::Duration,
) -> Result<(TimedOp<'a>, String, u64)> {
    let data = stream_data(bytes)?;
    let n4 = data.len() / 4;
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            let cfg = *cfg;
            let op: TimedOp<'a> = Box::new(move |_| {
                std::hint::black_box(lowbit_kernels::bandwidth::read_sum(&cfg, &data));
                Ok(())
            });
            Ok((op, "simd".into(), n4 as u64 * 16))
        }
        Backend::Gpu(g) => {
            let best = read_bound_cached(ctx, bytes, budget)?;
            let layout = *LAYOUTS
                .iter()
                .find(|&&l| layout_name(l) == best.layout)
                .expect("read_bound names one of LAYOUTS");
            let (op, read) = stream_op(g, &data, layout)?;
            Ok((op, best.layout, read))
        }
    }
}
