//! Shift-add family at 1×4096×4096: the L-Mul GEMV (every product an integer add, m = 3, 4,
//! 7), power-of-two weights (5 bits with a zero code, f32 x) and BCQ query-and-add (2 and 3 sign
//! planes, 3 APoT terms per 8 columns × N/8 rows) beside the dense f32 GEMV, on the CPU and every
//! GPU adapter. `lowbit bench --op lmul --mbits M`, `--op shift --bits B` and `--op bcq --bits Q`
//! print one with the read bound.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lowbit::kernels::bcq::BcqWeights;
use lowbit::kernels::shift::ShiftWeights;
use lowbit::ops::{bcq_matmul, lmul_matmul, matmul, shift_matmul};
use lowbit::{BcqMatrix, Context, ShiftMatrix, Tensor};

const K: usize = 4096;
const N: usize = 4096;

fn bench_on(c: &mut Criterion, ctx: &Context, label: &str) {
    let mut g = c.benchmark_group(format!("shiftadd/{label}"));
    g.sample_size(10);
    let x: Vec<f32> = (0..K).map(|i| ((i % 13) as f32) / 13.0 - 0.5).collect();
    let w: Vec<f32> = (0..N * K)
        .map(|i| ((i * 7919 % 2003) as f32) / 1001.5 - 1.0)
        .collect();
    let xt = Tensor::from_slice(ctx, &x, &[1, K]).unwrap();
    let wt = Tensor::from_slice(ctx, &w, &[N, K]).unwrap();
    g.throughput(Throughput::Bytes((N * K * 4) as u64));
    for mbits in [3u32, 4, 7] {
        let id = BenchmarkId::new(format!("lmul/m{mbits}"), format!("1x{N}x{K}"));
        g.bench_function(id, |b| {
            b.iter(|| lmul_matmul(ctx, &xt, &wt, mbits).unwrap())
        });
    }
    let sw = ShiftWeights::quantize(5, true, (N, K, K), &w).unwrap();
    let sm = ShiftMatrix::new(ctx, &sw).unwrap();
    let id = BenchmarkId::new("shift/b5", format!("1x{N}x{K}"));
    g.bench_function(id, |b| b.iter(|| shift_matmul(ctx, &xt, &sm).unwrap()));
    for q in [2usize, 3] {
        let bw = BcqWeights::quantize(&w, (q, N, K), (8, N / 8, 3)).unwrap();
        let bm = BcqMatrix::new(ctx, &bw).unwrap();
        let id = BenchmarkId::new(format!("bcq/q{q}"), format!("1x{N}x{K}"));
        g.bench_function(id, |b| b.iter(|| bcq_matmul(ctx, &xt, &bm, None).unwrap()));
    }
    let id = BenchmarkId::new("dense-f32", format!("1x{N}x{K}"));
    g.bench_function(id, |b| b.iter(|| matmul(ctx, &xt, &wt).unwrap()));
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_on(c, &Context::cpu(), "cpu");
    for ctx in Context::all_gpus().into_iter().flatten() {
        let name = ctx.info().name;
        bench_on(c, &ctx, &name);
    }
}

criterion_group!(shiftadd, benches);
criterion_main!(shiftadd);
