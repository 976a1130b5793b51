//! The LUT matmul for bits 1–4 at 1×4096×4096 (decode) and 16×4096×4096 (small batch), each
//! kernel over the same planes (f32 tables, int8 tables, dequantise in registers), on the CPU
//! and every GPU adapter. `lowbit bench --op lut-matmul --bits B` prints one of these beside
//! the project's GGUF kernel, the dense f16 kernel and the read bound.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lowbit::kernels::lut::{LutPrecision, LutWeights};
use lowbit::ops::{lut_matmul_with, LutKernel};
use lowbit::{Context, LutMatrix, Tensor};

const K: usize = 4096;
const N: usize = 4096;
const KERNELS: [LutKernel; 3] = [
    LutKernel::Table(LutPrecision::Int8),
    LutKernel::Table(LutPrecision::F32),
    LutKernel::Dequant,
];

fn bench_on(c: &mut Criterion, ctx: &Context, label: &str) {
    let mut g = c.benchmark_group(format!("lut_matmul/{label}"));
    g.sample_size(10);
    let vals: Vec<f32> = (0..N * K)
        .map(|i| ((i * 7919 % 2003) as f32) / 1001.5 - 1.0)
        .collect();
    for bits in 1..=4 {
        let lw = LutWeights::quantize(bits, N, K, 128, &vals).unwrap();
        let w = LutMatrix::new(ctx, &lw).unwrap();
        for m in [1usize, 16] {
            let x: Vec<f32> = (0..m * K).map(|i| ((i % 13) as f32) / 13.0 - 0.5).collect();
            let xt = Tensor::from_slice(ctx, &x, &[m, K]).unwrap();
            g.throughput(Throughput::Bytes(w.bytes()));
            for kernel in KERNELS {
                let id =
                    BenchmarkId::new(format!("b{bits}/{}", kernel.name()), format!("{m}x{N}x{K}"));
                g.bench_function(id, |b| {
                    b.iter(|| lut_matmul_with(ctx, &xt, &w, kernel).unwrap())
                });
            }
        }
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_on(c, &Context::cpu(), "cpu");
    for ctx in Context::all_gpus().into_iter().flatten() {
        let name = ctx.info().name;
        bench_on(c, &ctx, &name);
    }
}

criterion_group!(lut, benches);
criterion_main!(lut);
