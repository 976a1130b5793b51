//! Timing harness for the acceptance ratios: GEMV (M ≤ 4) against `bandwidth::read_sum` on the
//! same bytes, and the f32 GEMM against the `matrixmultiply` crate on the same threads.
//!
//! `CARGO_TARGET_DIR=/work/target-kernels cargo run -p lowbit-kernels --release --example perf`
//! (`LOWBIT_CPU_SIMD` caps the level; `MATMUL_NUM_THREADS` sets matrixmultiply's threads, which
//! defaults to the number of cores, as does `CpuConfig::detect`).

use std::hint::black_box;
use std::time::Instant;

use half::{bf16, f16};
use lowbit_kernels::{bandwidth, matmul, CpuConfig, MatRef};

/// Times `a` and `b` alternately for `rounds` rounds after a warm-up and returns the best time
/// of each in seconds: alternating keeps a noisy (shared, frequency-scaling) machine's drift out
/// of the ratio, and the minimum is the least disturbed run.
fn race(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    a();
    b();
    let (mut ta, mut tb) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let t = Instant::now();
        a();
        ta = ta.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        b();
        tb = tb.min(t.elapsed().as_secs_f64());
    }
    (ta, tb)
}

fn data(len: usize) -> Vec<f32> {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn main() {
    let cfg = CpuConfig::detect();
    println!(
        "cpu: {} | level {:?}, {} threads | features {:?}",
        lowbit_kernels::simd::cpu_name(),
        cfg.level,
        cfg.threads,
        lowbit_kernels::simd::cpu_features()
    );
    let rounds = 30;
    // PERF_ONLY=gemv or PERF_ONLY=gemm runs one half.
    let only = std::env::var("PERF_ONLY").unwrap_or_default();

    if only == "hot" {
        // W small enough for L2: the kernels' compute rate, without DRAM.
        let (n, k) = (128, 4096);
        let wf = data(n * k);
        let wh: Vec<f16> = wf.iter().map(|&v| f16::from_f32(v)).collect();
        for m in [1usize, 4] {
            let x = data(m * k);
            let mut y = vec![0f32; m * n];
            for (name, w) in [("f32", MatRef::F32(&wf)), ("f16", MatRef::F16(&wh))] {
                let one = CpuConfig { threads: 1, ..cfg };
                let (t, _) = race(
                    200,
                    || {
                        matmul::matmul(&one, MatRef::F32(&x), w, m, n, k, &mut y).unwrap();
                    },
                    || {},
                );
                println!(
                    "hot 1-thread GEMV m={m} {name}: {:.1} GB/s of W",
                    (n * k * w.dtype().size_bytes()) as f64 / t / 1e9
                );
            }
        }
        return;
    }
    // GEMV at n = k = 4096, each against read_sum over the same number of bytes.
    let (n, k) = (4096, 4096);
    let wf = data(n * k);
    let wh: Vec<f16> = wf.iter().map(|&v| f16::from_f32(v)).collect();
    let wb: Vec<bf16> = wf.iter().map(|&v| bf16::from_f32(v)).collect();
    let half_as_f32 = data(n * k / 2);
    for m in [1usize, 2, 4].into_iter().filter(|_| only != "gemm") {
        let x = data(m * k);
        let mut y = vec![0f32; m * n];
        for (name, w, same_bytes) in [
            ("f32", MatRef::F32(&wf), &wf),
            ("f16", MatRef::F16(&wh), &half_as_f32),
            ("bf16", MatRef::BF16(&wb), &half_as_f32),
        ] {
            let (t, t_read) = race(
                rounds,
                || {
                    matmul::matmul(&cfg, MatRef::F32(&x), w, m, n, k, &mut y).unwrap();
                    black_box(&y);
                },
                || {
                    black_box(bandwidth::read_sum(&cfg, black_box(same_bytes)));
                },
            );
            let bytes = (n * k * w.dtype().size_bytes()) as f64;
            println!(
                "GEMV m={m} w={name:4}: {:.3} ms ({:.1} GB/s), read_sum {:.3} ms ({:.1} GB/s): {:.2}x read_sum",
                t * 1e3,
                bytes / t / 1e9,
                t_read * 1e3,
                bytes / t_read / 1e9,
                t_read / t
            );
        }
    }

    // GEMM 512 x 1024 x 1024 against matrixmultiply.
    if only == "gemv" {
        return;
    }
    let (m, n, k) = (512, 1024, 1024);
    let x = data(m * k);
    let w = data(n * k);
    let wh: Vec<f16> = w.iter().map(|&v| f16::from_f32(v)).collect();
    let mut y = vec![0f32; m * n];
    let mut y2 = vec![0f32; m * n];
    let flop = 2.0 * (m * n * k) as f64;
    let (t_ours, t_mm) = race(
        rounds,
        || {
            matmul::matmul(&cfg, MatRef::F32(&x), MatRef::F32(&w), m, n, k, &mut y).unwrap();
            black_box(&y);
        },
        || {
            // SAFETY: x is m×k row-major (row stride k), Wᵀ is W read with row stride 1 and
            // column stride k, y is m×n row-major; all buffers have the sizes these strides imply.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    x.as_ptr(),
                    k as isize,
                    1,
                    w.as_ptr(),
                    1,
                    k as isize,
                    0.0,
                    y2.as_mut_ptr(),
                    n as isize,
                    1,
                )
            };
            black_box(&y2);
        },
    );
    let (t_ours16, _) = race(
        rounds / 3,
        || {
            matmul::matmul(&cfg, MatRef::F32(&x), MatRef::F16(&wh), m, n, k, &mut y).unwrap();
            black_box(&y);
        },
        || {},
    );
    println!(
        "GEMM {m}x{n}x{k}: lowbit f32 {:.2} ms ({:.1} GFLOP/s), f16 W {:.2} ms ({:.1} GFLOP/s), matrixmultiply {:.2} ms ({:.1} GFLOP/s): ratio {:.2}x",
        t_ours * 1e3,
        flop / t_ours / 1e9,
        t_ours16 * 1e3,
        flop / t_ours16 / 1e9,
        t_mm * 1e3,
        flop / t_mm / 1e9,
        t_mm / t_ours
    );
}
