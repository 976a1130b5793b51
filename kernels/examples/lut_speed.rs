//! The CPU LUT GEMV against bits and against the int8 block kernels, side by side, min of
//! rounds: `cargo run --release -p lowbit-kernels --example lut_speed [n] [k] [m] [bits]` (with
//! `bits`, that width's int8-table kernel only, for profiling).
use lowbit_kernels::formats::{quantize_row, QuantType};
use lowbit_kernels::lut::{lut_matmul, LutPrecision, LutWeights};
use lowbit_kernels::quant_matmul::{quant_matmul, QuantPath};
use lowbit_kernels::simd::detected;
use std::time::Instant;

fn best(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let k: usize = args.next().map_or(4096, |s| s.parse().unwrap());
    let m: usize = args.next().map_or(1, |s| s.parse().unwrap());
    let only: Option<u32> = args.next().map(|s| s.parse().unwrap());
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
    let mut y = vec![0f32; m * n];
    println!("{n}×{k}, M = {m}, {level:?}, {threads} threads; ms (min of 15)");
    for ty in [QuantType::Q2_K, QuantType::Q4_0]
        .into_iter()
        .filter(|_| only.is_none())
    {
        let row = ty.row_bytes(k).unwrap();
        let mut b = vec![0u8; n * row];
        if ty.has_quantizer() {
            for (r, o) in w.chunks(k).zip(b.chunks_mut(row)) {
                quantize_row(ty, r, o).unwrap();
            }
        } else {
            // Q2_K has no reference quantiser: random codes and scales, d = dmin = 0.01.
            for (i, v) in b.iter_mut().enumerate() {
                *v = (i.wrapping_mul(2654435761) >> 7) as u8;
            }
            for blk in b.chunks_mut(ty.block_bytes()) {
                let at = ty.block_bytes() - 4;
                blk[at..at + 2].copy_from_slice(&0x211Fu16.to_le_bytes());
                blk[at + 2..at + 4].copy_from_slice(&0x211Fu16.to_le_bytes());
            }
        }
        let t = best(15, || {
            quant_matmul(QuantPath::Int8, level, threads, ty, &b, &x, m, n, k, &mut y).unwrap()
        });
        println!("{:>6} int8 block kernel  {t:.3}", ty.name());
    }
    for bits in (1..=4).filter(|b| only.is_none_or(|o| o == *b)) {
        let lw = LutWeights::quantize(bits, n, k, 128, &w).unwrap();
        for prec in [LutPrecision::Int8, LutPrecision::F32] {
            if only.is_some() && prec == LutPrecision::F32 {
                continue;
            }
            let rounds = if only.is_some() { 2000 } else { 15 };
            let t = best(rounds, || {
                lut_matmul(level, threads, prec, &lw, &x, m, &mut y).unwrap()
            });
            println!("LUT b{bits} g128 {:>4} tables  {t:.3}", prec.name());
        }
    }
}
