//! Timing done one way for every op: warm-up, then repeated runs until a time budget; min,
//! median and max. GPU time comes from timestamp queries around the pass where the device has
//! them, wall clock otherwise; the result says which.

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

/// The timed runs of one measurement, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// Fastest run.
    pub min: f64,
    /// Median run: what results report as the time.
    pub median: f64,
    /// Slowest run.
    pub max: f64,
    /// Timed runs (after the warm-up).
    pub runs: usize,
    /// How the runs were timed.
    pub timing: Timing,
}

impl Measured {
    fn of(mut v: Vec<f64>, timing: Timing) -> Self {
        v.sort_by(|a, b| a.total_cmp(b));
        Measured {
            min: v[0],
            median: v[v.len() / 2],
            max: v[v.len() - 1],
            runs: v.len(),
            timing,
        }
    }

    /// `(median seconds, timing)`.
    pub fn pair(&self) -> (f64, Timing) {
        (self.median, self.timing)
    }
}

/// Runs `f` once to warm up, then until `budget` is spent (at least 3 runs).
pub fn measure_wall_runs(budget: Duration, mut f: impl FnMut() -> Result<()>) -> Result<Measured> {
    f()?;
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_RUNS || (start.elapsed() < budget && times.len() < MAX_RUNS) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(Measured::of(times, Timing::Wall))
}

/// [`measure_wall_runs`]' median seconds.
pub fn measure_wall(budget: Duration, f: impl FnMut() -> Result<()>) -> Result<(f64, Timing)> {
    measure_wall_runs(budget, f).map(|m| m.pair())
}

/// Like [`measure_wall_runs`] for a GPU op; `f` records its dispatches with the timer it is given.
pub(crate) fn measure_gpu_runs(
    g: &Gpu,
    budget: Duration,
    mut f: impl FnMut(Option<&GpuTimer>) -> Result<()>,
) -> Result<Measured> {
    let Some(timer) = GpuTimer::new(g) else {
        return measure_wall_runs(budget, || f(None));
    };
    f(Some(&timer))?;
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_RUNS || (start.elapsed() < budget && times.len() < MAX_RUNS) {
        f(Some(&timer))?;
        times.push(timer.read_ns(g)? * 1e-9);
    }
    Ok(Measured::of(times, Timing::GpuTimestamp))
}

/// [`measure_gpu_runs`]' median seconds.
pub(crate) fn measure_gpu(
    g: &Gpu,
    budget: Duration,
    f: impl FnMut(Option<&GpuTimer>) -> Result<()>,
) -> Result<(f64, Timing)> {
    measure_gpu_runs(g, budget, f).map(|m| m.pair())
}

/// Times an op on `ctx` by [`measure_gpu_runs`] on a GPU and [`measure_wall_runs`] on the CPU
/// backend; `f` runs the op once, with the GPU timer (`None` on the CPU).
pub(crate) fn measure_op_runs(
    ctx: &crate::context::Context,
    budget: Duration,
    mut f: impl FnMut(Option<&GpuTimer>) -> Result<()>,
) -> Result<Measured> {
    match &*ctx.inner {
        crate::context::Backend::Gpu(g) => measure_gpu_runs(g, budget, f),
        crate::context::Backend::Cpu(_) => measure_wall_runs(budget, || f(None)),
    }
}

/// One op of [`measure_alternating`]: runs it once, recording its dispatches with the GPU timer
/// it is given (`None` on the CPU backend or without timestamp queries).
pub(crate) type TimedOp<'a> = Box<dyn FnMut(Option<&GpuTimer>) -> Result<()> + 'a>;

/// Times `ops` on `ctx` in turn: one warm-up run each, then rounds of one run of every op until
/// the rounds have taken `budget` per op (at least 3). A shared machine's slow spells last
/// seconds, longer than one op's budget, so ops timed one after the other can land in different
/// spells; in alternation every op sees them alike and their ratios within one run are fair.
pub(crate) fn measure_alternating(
    ctx: &crate::context::Context,
    budget: Duration,
    ops: &mut [TimedOp<'_>],
) -> Result<Vec<Measured>> {
    let timer = match &*ctx.inner {
        crate::context::Backend::Gpu(g) => GpuTimer::new(g).map(|t| (g, t)),
        crate::context::Backend::Cpu(_) => None,
    };
    let run = |op: &mut TimedOp<'_>| -> Result<f64> {
        match &timer {
            Some((g, t)) => {
                op(Some(t))?;
                Ok(t.read_ns(g)? * 1e-9)
            }
            None => {
                let start = Instant::now();
                op(None)?;
                Ok(start.elapsed().as_secs_f64())
            }
        }
    };
    for op in ops.iter_mut() {
        run(op)?;
    }
    let total = budget * ops.len() as u32;
    let start = Instant::now();
    let mut times = vec![Vec::new(); ops.len()];
    let mut rounds = 0;
    while !ops.is_empty() && (rounds < MIN_RUNS || (start.elapsed() < total && rounds < MAX_RUNS)) {
        for (op, t) in ops.iter_mut().zip(&mut times) {
            t.push(run(op)?);
        }
        rounds += 1;
    }
    let timing = if timer.is_some() {
        Timing::GpuTimestamp
    } else {
        Timing::Wall
    };
    Ok(times.into_iter().map(|v| Measured::of(v, timing)).collect())
}

/// The fastest run of a measurement as `(seconds, timing)`: what a ceiling is (a shared machine's
/// noise only ever slows a run down).
pub fn fastest(m: Result<Measured>) -> Result<(f64, Timing)> {
    m.map(|m| (m.min, m.timing))
}
