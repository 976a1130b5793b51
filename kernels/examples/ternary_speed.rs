//! The CPU ternary GEMV (int8 activations, quantised per token inside the timing) against this
//! project's Q4_0 and TQ block kernels of the same shape, side by side, min of rounds:
//! `cargo run --release -p lowbit-kernels --example ternary_speed [n] [k] [m]`.
use lowbit_kernels::formats::{quantize_row, QuantType};
use lowbit_kernels::quant_matmul::{quant_matmul, QuantPath};
use lowbit_kernels::simd::detected;
use lowbit_kernels::ternary::{absmax_int8, kernel_level, ternary_matmul_i8, TernaryWeights};
use std::time::Instant;

/// Each kernel's best time in ms over `rounds`, the kernels taking turns within each round so
/// that a slow spell of a shared machine hits them all.
/// A named kernel to time.
type Timed<'a> = (String, Box<dyn FnMut() + 'a>);

fn interleaved(rounds: usize, kernels: &mut [Timed]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; kernels.len()];
    for _ in 0..rounds {
        for (b, (_, f)) in best.iter_mut().zip(kernels.iter_mut()) {
            let t = Instant::now();
            f();
            *b = b.min(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    best
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let k: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let m: usize = args.next().map_or(1, |s| s.parse().unwrap());
    let level = detected();
    let threads = rayon::current_num_threads();
    let mut s = 1u64;
    let mut unit = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) % 20001) as f32 / 10000.0 - 1.0
    };
    let w: Vec<f32> = (0..n * k).map(|_| unit()).collect();
    let x: Vec<f32> = (0..m * k).map(|_| unit()).collect();
    println!(
        "{n}×{k}, M = {m}, {level:?} ({}), {threads} threads; ms (min of 30)",
        kernel_level(level)
    );
    let blocks = |ty: QuantType| {
        let row = ty.row_bytes(k).unwrap();
        let mut b = vec![0u8; n * row];
        for (r, o) in w.chunks(k).zip(b.chunks_mut(row)) {
            quantize_row(ty, r, o).unwrap();
        }
        b
    };
    let (q4, tq2, tq1) = (
        blocks(QuantType::Q4_0),
        blocks(QuantType::TQ2_0),
        blocks(QuantType::TQ1_0),
    );
    let t2 = TernaryWeights::from_tq2_0(&tq2, n, k).unwrap();
    let t1 = TernaryWeights::from_tq1_0(&tq1, n, k).unwrap();
    let x = &x;
    let block_kernel = &|ty: QuantType, b: &[u8], y: &mut [f32]| {
        quant_matmul(QuantPath::Int8, level, threads, ty, b, x, m, n, k, y).unwrap()
    };
    let ternary = &|tw: &TernaryWeights, y: &mut [f32]| {
        let mut q = Vec::with_capacity(m * k);
        let mut sc = Vec::with_capacity(m);
        for xr in x.chunks(k) {
            let (qt, st) = absmax_int8(xr);
            q.extend(qt);
            sc.push(1.0 / st);
        }
        ternary_matmul_i8(threads, tw, &q, &sc, None, y).unwrap()
    };
    let (t2, t1) = (&t2, &t1);
    let mut kernels: Vec<Timed> = Vec::new();
    for (name, ty, b) in [
        ("Q4_0", QuantType::Q4_0, q4),
        ("TQ2_0", QuantType::TQ2_0, tq2),
        ("TQ1_0", QuantType::TQ1_0, tq1),
    ] {
        let mut y = vec![0f32; m * n];
        kernels.push((
            format!("{name:>6} int8 block kernel  "),
            Box::new(move || block_kernel(ty, &b, &mut y)),
        ));
    }
    for (name, tw) in [("TQ2_0", t2), ("TQ1_0", t1)] {
        let mut y = vec![0f32; m * n];
        kernels.push((
            format!("{name:>6} ternary kernel (A8)"),
            Box::new(move || ternary(tw, &mut y)),
        ));
    }
    // The read bound: a streaming read of as many bytes as the TQ2_0 weights.
    let stream = vec![1f32; t2.codes().len() / 4 + t2.scales().len()];
    let cfg = lowbit_kernels::CpuConfig::detect();
    kernels.push((
        "  read of TQ2_0's bytes   ".into(),
        Box::new(move || {
            std::hint::black_box(lowbit_kernels::bandwidth::read_sum(&cfg, &stream));
        }),
    ));
    let times = interleaved(30, &mut kernels);
    for ((name, _), t) in kernels.iter().zip(times) {
        println!("{name}  {t:.3}");
    }
}
