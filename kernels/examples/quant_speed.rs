//! Throughput of the CPU quantized GEMV paths on random blocks:
//! `cargo run --release -p lowbit-kernels --example quant_speed [n] [k] [m=M] [format…]`
//! (default M = 1, formats Q4_0, Q8_0, Q4_K).
use lowbit_kernels::formats::{quantize_row, QuantType};
use lowbit_kernels::quant_matmul::{quant_matmul_with, QuantPath, WeightFacts};
use lowbit_kernels::simd::detected;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let k: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let mut m = 1;
    let mut formats = Vec::new();
    for a in args {
        if let Some(v) = a.strip_prefix("m=") {
            m = v.parse().unwrap();
        } else {
            formats.push(QuantType::from_name(&a).unwrap_or_else(|| panic!("unknown format {a}")));
        }
    }
    if formats.is_empty() {
        formats = vec![QuantType::Q4_0, QuantType::Q8_0, QuantType::Q4_K];
    }
    let mut s = 1u64;
    for ty in formats {
        let bytes = n * ty.row_bytes(k).unwrap();
        let mut w: Vec<u8> = (0..bytes)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Keep f16 scale bytes small-ish: the top bits of random bytes are fine.
                (s >> 57) as u8
            })
            .collect();
        if matches!(ty, QuantType::F8E4M3 | QuantType::F8E5M2) {
            // Plain row scales (random f32 bits make subnormal products).
            for b in w.chunks_mut(ty.block_bytes()) {
                b[..4].copy_from_slice(&0.01f32.to_le_bytes());
                // Real E4M3 weights hold no NaN code (`S.1111.111`).
                if ty == QuantType::F8E4M3 {
                    for c in &mut b[4..] {
                        if *c & 0x7f == 0x7f {
                            *c ^= 0x04;
                        }
                    }
                }
            }
        }
        if ty.has_quantizer() {
            // Where the format has a quantiser, rows of values quantised by it (repeated), so
            // the scales are what real weights have: random f16 scale bytes are 6% subnormal,
            // infinite or NaN, slow paths real weights never take.
            let row = ty.row_bytes(k).unwrap();
            let vals: Vec<f32> = (0..k)
                .map(|i| ((i * 7919) % 255) as f32 / 127.5 - 1.0)
                .collect();
            for (r, out) in w.chunks_mut(row).enumerate() {
                let shifted: Vec<f32> = vals.iter().map(|v| v * (1.0 + (r % 7) as f32)).collect();
                quantize_row(ty, &shifted, out).unwrap();
            }
        }
        if ty == QuantType::MXFP4 {
            // Exponents near 2⁰, as real weights have: random ones down to 2⁻¹²⁷ make
            // subnormal products, and the CPU's microcode assists would be timed instead.
            for b in w.chunks_mut(ty.block_bytes()) {
                b[0] = 120 + b[0] % 16;
            }
        }
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 37) % 17) as f32 / 17.0 - 0.5)
            .collect();
        let mut y = vec![0.0; m * n];
        // What the library finds once when it keeps the weights (`QuantMatrix`).
        let facts = WeightFacts::of(ty, &w);
        for path in [QuantPath::Exact, QuantPath::Int8] {
            for threads in [1, 2] {
                quant_matmul_with(
                    facts,
                    path,
                    detected(),
                    threads,
                    ty,
                    &w,
                    &x,
                    m,
                    n,
                    k,
                    &mut y,
                )
                .unwrap();
                // The best of five rounds: these machines are shared and noisy.
                let reps = 10;
                let mut secs = f64::INFINITY;
                for _ in 0..5 {
                    let t = Instant::now();
                    for _ in 0..reps {
                        let (d, t) = (detected(), threads);
                        quant_matmul_with(facts, path, d, t, ty, &w, &x, m, n, k, &mut y).unwrap();
                    }
                    secs = secs.min(t.elapsed().as_secs_f64() / reps as f64);
                }
                println!(
                    "{:5} M={m} {path:?} threads {threads}: {:.3} ms, {:.1} GB/s, {:.2} ns/block",
                    ty.name(),
                    secs * 1e3,
                    bytes as f64 / secs / 1e9,
                    secs * 1e9 * threads as f64 / (n * k / 32) as f64
                );
            }
        }
    }
}
