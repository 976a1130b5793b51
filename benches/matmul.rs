//! Dense matmul benches: GEMV 1×4096×4096 and GEMM 512×4096×4096 per dtype on the default
//! adapter and the CPU backend, and the CPU f32 GEMM beside the `matrixmultiply` crate on the
//! same shape in the same run (GEMM at 512×1024×1024, the comparison point).
//!
//! `cargo bench --bench matmul`; `LOWBIT_BENCH_QUICK=1` keeps only the small shapes.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::f16;
use lowbit::{ops, Context, Tensor};

fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) as f32
                / (1u32 << 24) as f32)
                - 0.5
        })
        .collect()
}

fn tensors(ctx: &Context, dtype: &str, m: usize, n: usize, k: usize) -> (Tensor, Tensor) {
    let (x, w) = (data(m * k, 1), data(n * k, 2));
    match dtype {
        "f16" => {
            let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
            let wh: Vec<f16> = w.iter().map(|&v| f16::from_f32(v)).collect();
            (
                Tensor::from_slice(ctx, &xh, &[m, k]).unwrap(),
                Tensor::from_slice(ctx, &wh, &[n, k]).unwrap(),
            )
        }
        _ => (
            Tensor::from_slice(ctx, &x, &[m, k]).unwrap(),
            Tensor::from_slice(ctx, &w, &[n, k]).unwrap(),
        ),
    }
}

fn contexts() -> Vec<(String, Context)> {
    let mut v = vec![("cpu".to_string(), Context::cpu())];
    match Context::new() {
        Ok(c) => v.push((c.info().name, c)),
        Err(e) => eprintln!("no GPU adapter, CPU only: {e}"),
    }
    v
}

fn bench_matmul(c: &mut Criterion) {
    let quick = std::env::var_os("LOWBIT_BENCH_QUICK").is_some();
    let shapes: &[(usize, usize, usize)] = if quick {
        &[(1, 1024, 1024), (64, 256, 256)]
    } else {
        &[(1, 4096, 4096), (512, 4096, 4096)]
    };
    let mut g = c.benchmark_group("matmul");
    g.sample_size(10);
    for (name, ctx) in contexts() {
        // A software adapter runs the 512×4096×4096 GEMM at under 1 GFLOP/s (30 s an iteration):
        // it gets the 512×1024×1024 GEMM instead.
        let software = ctx.caps().cpu_device;
        if software && !quick {
            eprintln!("{name} is a CPU device: GEMM at 512x1024x1024 instead of 512x4096x4096");
        }
        for dtype in ["f32", "f16"] {
            for &(m, n, k) in shapes {
                let (n, k) = if software && m > 4 && !quick {
                    (1024, 1024)
                } else {
                    (n, k)
                };
                let (x, w) = tensors(&ctx, dtype, m, n, k);
                g.throughput(Throughput::Elements((2 * m * n * k) as u64));
                let id = BenchmarkId::new(format!("{name}/{dtype}"), format!("{m}x{n}x{k}"));
                g.bench_function(id, |b| {
                    b.iter(|| ops::matmul(&ctx, &x, &w).unwrap().to_vec::<f32>().unwrap())
                });
            }
        }
    }
    g.finish();
}

/// lowbit's CPU f32 GEMM against `matrixmultiply` (threaded) on one shape.
fn bench_cpu_gemm_vs_matrixmultiply(c: &mut Criterion) {
    let (m, n, k) = (512, 1024, 1024);
    let ctx = Context::cpu();
    let (x, w) = tensors(&ctx, "f32", m, n, k);
    let (xv, wv) = (x.to_vec::<f32>().unwrap(), w.to_vec::<f32>().unwrap());
    let mut g = c.benchmark_group("cpu_gemm_512x1024x1024");
    g.sample_size(10);
    g.throughput(Throughput::Elements((2 * m * n * k) as u64));
    g.bench_function("lowbit", |b| b.iter(|| ops::matmul(&ctx, &x, &w).unwrap()));
    // ndarray's f32 `dot` is matrixmultiply's sgemm (threaded), reached without `unsafe`.
    let xa = ndarray::Array2::from_shape_vec((m, k), xv).unwrap();
    let wa = ndarray::Array2::from_shape_vec((n, k), wv).unwrap();
    g.bench_function("matrixmultiply", |b| b.iter(|| xa.dot(&wa.t())));
    g.finish();
}

criterion_group!(benches, bench_matmul, bench_cpu_gemm_vs_matrixmultiply);
criterion_main!(benches);
