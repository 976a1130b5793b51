//! Ternary GEMV at 1×4096×4096 with BitNet's int8 activations: GGUF TQ2_0 and TQ1_0 weights kept
//! in their packing, per-tensor (BitNet) and per-128 (Tequila) scales, beside the same weights
//! dequantised to f16 through the dense kernel, on the CPU and every GPU adapter.
//! `lowbit bench --op ternary --w-format tq2_0|tq1_0` prints one with the read bound.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lowbit::kernels::formats::{quantize_row, QuantType};
use lowbit::kernels::ternary::{absmax_int8, TernaryWeights, TritPacking};
use lowbit::ops::{matmul, ternary_matmul};
use lowbit::{Context, Tensor, TernaryMatrix};

const K: usize = 4096;
const N: usize = 4096;

fn bench_on(c: &mut Criterion, ctx: &Context, label: &str) {
    let mut g = c.benchmark_group(format!("ternary/{label}"));
    g.sample_size(10);
    let xf: Vec<f32> = (0..K).map(|i| ((i % 13) as f32) / 13.0 - 0.5).collect();
    let w: Vec<f32> = (0..N * K)
        .map(|i| ((i * 7919 % 2003) as f32) / 1001.5 - 1.0)
        .collect();
    let (q, s) = absmax_int8(&xf);
    let x = Tensor::from_slice(ctx, &q, &[1, K]).unwrap();
    let xs = Tensor::from_slice(ctx, &[1.0 / s], &[1]).unwrap();
    let gguf = |ty: QuantType| {
        let row = ty.row_bytes(K).unwrap();
        let mut b = vec![0u8; N * row];
        for (src, dst) in w.chunks(K).zip(b.chunks_mut(row)) {
            quantize_row(ty, src, dst).unwrap();
        }
        b
    };
    let weights = [
        (
            "tq2_0",
            TernaryWeights::from_tq2_0(&gguf(QuantType::TQ2_0), N, K).unwrap(),
        ),
        (
            "tq1_0",
            TernaryWeights::from_tq1_0(&gguf(QuantType::TQ1_0), N, K).unwrap(),
        ),
        (
            "bitnet",
            TernaryWeights::absmean(TritPacking::Bits2, &w, N, K).unwrap(),
        ),
        (
            "tequila-g128",
            TernaryWeights::absmean_groups(TritPacking::Bits2, &w, (N, K, 128)).unwrap(),
        ),
    ];
    for (name, tw) in &weights {
        let wm = TernaryMatrix::new(ctx, tw).unwrap();
        g.throughput(Throughput::Bytes(wm.bytes() as u64));
        let id = BenchmarkId::new(format!("{name}/a8"), format!("1x{N}x{K}"));
        g.bench_function(id, |b| {
            b.iter(|| ternary_matmul(ctx, &x, Some((&xs).into()), &wm, None).unwrap())
        });
    }
    // The dense baseline: the TQ2_0 weights dequantised to f16.
    let wh: Vec<half::f16> = weights[0]
        .1
        .dequantize()
        .iter()
        .map(|&v| half::f16::from_f32(v))
        .collect();
    let wt = Tensor::from_slice(ctx, &wh, &[N, K]).unwrap();
    let xt = Tensor::from_slice(ctx, &xf, &[1, K]).unwrap();
    g.throughput(Throughput::Bytes((N * K * 2) as u64));
    let id = BenchmarkId::new("dequant-f16-dense", format!("1x{N}x{K}"));
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

criterion_group!(ternary, benches);
criterion_main!(ternary);
