//! The int8 quantized GEMV at every SIMD level of this machine, side by side (alternating
//! rounds, best of each, one thread): `cargo run --release -p lowbit-kernels --example
//! quant_levels [n] [k] [format…]`. Compares kernels within one run, where the noise of a
//! shared machine hits every variant alike.
use lowbit_kernels::formats::QuantType;
use lowbit_kernels::quant_matmul::{quant_matmul, QuantPath};
use lowbit_kernels::simd::machine_levels;
use lowbit_kernels::SimdLevel;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let k: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let formats: Vec<QuantType> = args
        .map(|a| QuantType::from_name(&a).unwrap_or_else(|| panic!("unknown format {a}")))
        .collect();
    let levels: Vec<SimdLevel> = machine_levels()
        .into_iter()
        .filter(|&l| l >= SimdLevel::Avx2)
        .collect();
    let mut s = 1u64;
    for ty in formats {
        let mut w: Vec<u8> = (0..n * ty.row_bytes(k).unwrap())
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 57) as u8
            })
            .collect();
        if ty == QuantType::MXFP4 {
            for b in w.chunks_mut(ty.block_bytes()) {
                b[0] = 120 + b[0] % 16;
            }
        }
        let x: Vec<f32> = (0..k)
            .map(|i| ((i * 37) % 17) as f32 / 17.0 - 0.5)
            .collect();
        let mut y = vec![0.0; n];
        let mut best = vec![f64::INFINITY; levels.len()];
        for _ in 0..7 {
            for (l, &level) in levels.iter().enumerate() {
                let t = Instant::now();
                for _ in 0..5 {
                    quant_matmul(QuantPath::Int8, level, 1, ty, &w, &x, 1, n, k, &mut y).unwrap();
                }
                best[l] = best[l].min(t.elapsed().as_secs_f64() / 5.0);
            }
        }
        let blocks = (n * k / 32) as f64;
        let cells: Vec<String> = (levels.iter().zip(&best))
            .map(|(l, b)| format!("{l:?} {:.3} ms ({:.2} ns/32)", b * 1e3, b * 1e9 / blocks))
            .collect();
        println!("{:6} {}", ty.name(), cells.join("  "));
    }
}
