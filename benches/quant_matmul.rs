//! Quantized matmul for each GGUF block format at 1×4096×4096 (decode) and 512×4096×4096
//! (prefill), on the CPU (int8 and exact paths) and every GPU adapter. `lowbit bench
//! --w-format FMT` prints one of these with the dense-f16 baseline and the read bound.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lowbit::bench_quant::bench_weights;
use lowbit::ops::{quant_matmul_with, QuantPath};
use lowbit::{Context, QuantMatrix, Tensor};
use lowbit_kernels::formats::{QuantType, ALL};

const K: usize = 4096;
const N: usize = 4096;

/// Every block format (the plain F32/F16/BF16 run the dense kernels, benched in `matmul`).
fn formats() -> impl Iterator<Item = QuantType> {
    ALL.into_iter()
        .filter(|t| !matches!(t, QuantType::F32 | QuantType::F16 | QuantType::BF16))
}

fn bench_on(c: &mut Criterion, ctx: &Context, label: &str, paths: &[QuantPath], ms: &[usize]) {
    let mut g = c.benchmark_group(format!("quant_matmul/{label}"));
    g.sample_size(10);
    for ty in formats() {
        // The weights `lowbit bench` times: quantised values where the format has a
        // quantiser, else seeded bytes with sane scales.
        let bytes = bench_weights(ty, N, K).unwrap();
        let w = QuantMatrix::from_bytes(ctx, ty, N, K, &bytes).unwrap();
        for &m in ms {
            let x: Vec<f32> = (0..m * K).map(|i| ((i % 13) as f32) / 13.0 - 0.5).collect();
            let xt = Tensor::from_slice(ctx, &x, &[m, K]).unwrap();
            g.throughput(Throughput::Bytes(bytes.len() as u64));
            for &p in paths {
                let id = BenchmarkId::new(format!("{}/{p:?}", ty.name()), format!("{m}x{N}x{K}"));
                g.bench_function(id, |b| {
                    b.iter(|| quant_matmul_with(ctx, &xt, &w, p).unwrap())
                });
            }
        }
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let cpu = Context::cpu();
    bench_on(
        c,
        &cpu,
        "cpu",
        &[QuantPath::Int8, QuantPath::Exact],
        &[1, 512],
    );
    for ctx in Context::all_gpus().into_iter().flatten() {
        let name = ctx.info().name;
        // Software adapters run the decode case only: 512 tokens take minutes there.
        let ms: &[usize] = if ctx.caps().cpu_device {
            &[1]
        } else {
            &[1, 512]
        };
        // Both GPU routes: the int8 one (every block format but FP8, which then runs the
        // exact decoders twice) and the exact decoders.
        bench_on(c, &ctx, &name, &[QuantPath::Int8, QuantPath::Exact], ms);
    }
}

criterion_group!(quant, benches);
criterion_main!(quant);
