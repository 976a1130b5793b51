//! log-Bessel throughput on 2^16 points drawn like the reference file: the CPU f64 kernels
//! (one thread and every thread) and the GPU kernel in f32 and f64 on each adapter.
//! `lowbit bench --op bessel --n 1000000` prints the same side by side with ratios.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lowbit::ops::{log_bessel_ik, BesselPrecision};
use lowbit::Context;
use lowbit_kernels::bessel::{log_ikv_slice, log_iv_slice, mixture};

const N: usize = 1 << 16;

fn cpu(c: &mut Criterion) {
    let (v, x) = mixture(N, 1);
    let mut one = vec![0.0; N];
    let mut pairs = vec![(0.0, 0.0); N];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("bessel_cpu_f64");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("log_iv/1_thread", |b| {
        b.iter(|| log_iv_slice(&v, &x, &mut one, 1).unwrap())
    });
    g.bench_function("log_iv/all_threads", |b| {
        b.iter(|| log_iv_slice(&v, &x, &mut one, threads).unwrap())
    });
    g.bench_function("log_ikv/all_threads", |b| {
        b.iter(|| log_ikv_slice(&v, &x, &mut pairs, threads).unwrap())
    });
    g.finish();
}

fn gpu(c: &mut Criterion) {
    let (v, x) = mixture(N, 1);
    let all: Vec<Context> = Context::all_gpus().into_iter().flatten().collect();
    let mut g = c.benchmark_group("bessel_gpu");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for ctx in all {
        let name = ctx.info().name;
        let mut precisions = vec![BesselPrecision::F32];
        if ctx.caps().f64 {
            precisions.push(BesselPrecision::F64);
        }
        for p in precisions {
            // Includes upload and download: the cost an engine calling the op pays.
            g.bench_function(format!("{name}/{}", p.name()), |b| {
                b.iter(|| log_bessel_ik(&ctx, &v, &x, p).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, cpu, gpu);
criterion_main!(benches);
