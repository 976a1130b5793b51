//! `lowbit bench --op bessel`: evaluations/s of log I and log K, side by side in one run, on
//! the same points (drawn like the reference file): the CPU f64 kernels on every thread, and
//! the GPU kernel in f32 and (with shader-f64) f64 on the chosen adapter, with the points
//! grouped by region (as `log_bessel_ik` sends them) and in their original order.

use std::time::Duration;

use lowbit_kernels::bessel as kb;
use serde::Serialize;

use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::measure::{measure_gpu, measure_wall};
use crate::ops::bessel::{BesselPrecision, GpuJob, Kernel};

/// One measured path.
#[derive(Clone, Debug, Serialize)]
pub struct BesselRate {
    /// What ran: `cpu f64 log I`, `gpu f32 log I+K`, …
    pub path: String,
    /// Device name.
    pub device: String,
    /// Points per second.
    pub points_per_s: f64,
    /// How the time was taken (`wall` or `gpu-timestamp`; GPU times cover the kernel only).
    pub timing: String,
}

/// Every path of one `bench --op bessel` run.
#[derive(Clone, Debug, Serialize)]
pub struct BesselBench {
    /// Number of points.
    pub n: usize,
    /// CPU threads used.
    pub cpu_threads: usize,
    /// One entry per path, CPU first.
    pub rates: Vec<BesselRate>,
}

/// Times the CPU kernels and, when `gpu` is a GPU context, the GPU kernel (f32, and f64 where
/// the adapter has it) on `n` points of [`kb::mixture`] (seed 1).
pub fn bench_bessel(gpu: Option<&Context>, n: usize, budget: Duration) -> Result<BesselBench> {
    if n == 0 {
        return Err(Error::InvalidArgument(
            "bessel bench: n must be at least 1".into(),
        ));
    }
    let (v, x) = kb::mixture(n, 1);
    let cpu = Context::cpu();
    let threads = match &*cpu.inner {
        Backend::Cpu(cfg) => cfg.threads,
        Backend::Gpu(_) => 1,
    };
    let cpu_name = cpu.info().name;
    let mut rates = Vec::new();
    let mut one = vec![0.0; n];
    let mut pairs = vec![(0.0, 0.0); n];
    let shape = |e: lowbit_kernels::KernelError| Error::Shape(e.to_string());
    let cpu_rate = |path: &str, secs: f64| BesselRate {
        path: path.into(),
        device: cpu_name.clone(),
        points_per_s: n as f64 / secs,
        timing: "wall".into(),
    };
    let (t, _) = measure_wall(budget, || {
        kb::log_iv_slice(&v, &x, &mut one, threads).map_err(shape)
    })?;
    rates.push(cpu_rate("cpu f64 log I", t));
    let (t, _) = measure_wall(budget, || {
        kb::log_kv_slice(&v, &x, &mut one, threads).map_err(shape)
    })?;
    rates.push(cpu_rate("cpu f64 log K", t));
    let (t, _) = measure_wall(budget, || {
        kb::log_ikv_slice(&v, &x, &mut pairs, threads).map_err(shape)
    })?;
    rates.push(cpu_rate("cpu f64 log I+K", t));
    if let Some(ctx) = gpu {
        if let Backend::Gpu(g) = &*ctx.inner {
            let mut precisions = vec![BesselPrecision::F32];
            if g.caps.f64 {
                precisions.push(BesselPrecision::F64);
            }
            for (p, bucket) in precisions.into_iter().flat_map(|p| [(p, true), (p, false)]) {
                let job = GpuJob::new(g, Kernel::Bessel, &v, &x, p, bucket)?;
                let (t, timing) = measure_gpu(g, budget, |timer| job.run(g, timer))?;
                let order = if bucket { "" } else { " unsorted" };
                rates.push(BesselRate {
                    path: format!("gpu {} log I+K{order}", p.name()),
                    device: g.info.name.clone(),
                    points_per_s: n as f64 / t,
                    timing: timing.name().into(),
                });
            }
        }
    }
    Ok(BesselBench {
        n,
        cpu_threads: threads,
        rates,
    })
}
