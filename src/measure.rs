//! Timing done one way for every op: warm-up, then repeated runs until a time budget, median.
//! GPU time comes from timestamp queries around the pass where the device has them, wall clock
//! otherwise; the result says which.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::gpu::{Gpu, GpuTimer};

/// How a time was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// GPU timestamp queries around the compute pass.
    GpuTimestamp,
    /// Host wall clock around submit-and-wait (includes submission overhead).
    Wall,
}

impl Timing {
    /// `gpu-timestamp` or `wall`, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Timing::GpuTimestamp => "gpu-timestamp",
            Timing::Wall => "wall",
        }
    }
}

const MIN_RUNS: usize = 3;
const MAX_RUNS: usize = 1000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` once to warm up, then until `budget` is spent (at least 3 runs); median seconds.
pub fn measure_wall(budget: Duration, mut f: impl FnMut() -> Result<()>) -> Result<(f64, Timing)> {
    f()?;
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_RUNS || (start.elapsed() < budget && times.len() < MAX_RUNS) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok((median(times), Timing::Wall))
}

/// Like [`measure_wall`] for a GPU op; `f` records its dispatches with the timer it is given.
pub(crate) fn measure_gpu(
    g: &Gpu,
    budget: Duration,
    mut f: impl FnMut(Option<&GpuTimer>) -> Result<()>,
) -> Result<(f64, Timing)> {
    let Some(timer) = GpuTimer::new(g) else {
        return measure_wall(budget, || f(None));
    };
    f(Some(&timer))?;
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_RUNS || (start.elapsed() < budget && times.len() < MAX_RUNS) {
        f(Some(&timer))?;
        times.push(timer.read_ns(g)? * 1e-9);
    }
    Ok((median(times), Timing::GpuTimestamp))
}

/// Times an op on `ctx` by [`measure_gpu`] on a GPU and [`measure_wall`] on the CPU backend;
/// `f` runs the op once, with the GPU timer (`None` on the CPU).
pub(crate) fn measure_op(
    ctx: &crate::context::Context,
    budget: Duration,
    mut f: impl FnMut(Option<&GpuTimer>) -> Result<()>,
) -> Result<(f64, Timing)> {
    match &*ctx.inner {
        crate::context::Backend::Gpu(g) => measure_gpu(g, budget, f),
        crate::context::Backend::Cpu(_) => measure_wall(budget, || f(None)),
    }
}
