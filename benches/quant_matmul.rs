//! Quantized matmul for each GGUF block format at 1×4096×4096 (decode) and 512×4096×4096
//! (prefill), on the CPU (int8 and exact paths) and every GPU adapter. `lowbit bench
//! --w-format FMT` prints one of these with the dense-f16 baseline and the read bound.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lowbit::ops::{quant_matmul_with, QuantPath};
use lowbit::{Context, QuantMatrix, Tensor};
use lowbit_kernels::formats::QuantType;

const K: usize = 4096;
const N: usize = 4096;

fn seeded_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 57) as u8
        })
        .collect()
}

const FORMATS: [QuantType; 6] = [
    QuantType::Q4_0,
    QuantType::Q8_0,
    QuantType::Q4_K,
    QuantType::Q6_K,
    QuantType::IQ4_NL,
    QuantType::TQ2_0,
];

fn bench_on(c: &mut Criterion, ctx: &Context, label: &str, paths: &[QuantPath], ms: &[usize]) {
    let mut g = c.benchmark_group(format!("quant_matmul/{label}"));
    g.sample_size(10);
    for ty in FORMATS {
        let bytes = seeded_bytes(N * ty.row_bytes(K).unwrap(), 9);
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
        // Both GPU routes: the int8 one (Q4_0, Q8_0, Q4_K, Q6_K here) and the exact decoders.
        bench_on(c, &ctx, &name, &[QuantPath::Int8, QuantPath::Exact], ms);
    }
}

criterion_group!(quant, benches);
criterion_main!(quant);
