//! Throughput of the CPU quantized GEMV paths on random blocks:
//! `cargo run --release -p lowbit-kernels --example quant_speed [n] [k]`.
use lowbit_kernels::formats::QuantType;
use lowbit_kernels::quant_matmul::{quant_matmul, QuantPath};
use lowbit_kernels::simd::detected;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let k: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let mut s = 1u64;
    for ty in [QuantType::Q4_0, QuantType::Q8_0, QuantType::Q4_K] {
        let bytes = n * ty.row_bytes(k).unwrap();
        let w: Vec<u8> = (0..bytes)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Keep f16 scale bytes small-ish: the top bits of random bytes are fine.
                (s >> 57) as u8
            })
            .collect();
        let x: Vec<f32> = (0..k)
            .map(|i| ((i * 37) % 17) as f32 / 17.0 - 0.5)
            .collect();
        let mut y = vec![0.0; n];
        for path in [QuantPath::Exact, QuantPath::Int8] {
            for threads in [1, 2] {
                quant_matmul(path, detected(), threads, ty, &w, &x, 1, n, k, &mut y).unwrap();
                let reps = 20;
                let t = Instant::now();
                for _ in 0..reps {
                    quant_matmul(path, detected(), threads, ty, &w, &x, 1, n, k, &mut y).unwrap();
                }
                let secs = t.elapsed().as_secs_f64() / reps as f64;
                println!(
                    "{:5} {path:?} threads {threads}: {:.3} ms, {:.1} GB/s, {:.2} ns/block",
                    ty.name(),
                    secs * 1e3,
                    bytes as f64 / secs / 1e9,
                    secs * 1e9 * threads as f64 / (n * k / 32) as f64
                );
            }
        }
    }
}
