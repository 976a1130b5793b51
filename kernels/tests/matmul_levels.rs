//! The CPU backend at every SIMD level this machine has, against the f64 reference.

use half::{bf16, f16};
use lowbit_kernels::{matmul, reference, simd, CpuConfig, MatRef};
use proptest::prelude::*;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

enum Owned {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
}

impl Owned {
    fn new(kind: usize, len: usize, seed: u64) -> Self {
        let mut r = Rng(seed);
        let v: Vec<f32> = (0..len).map(|_| r.unit()).collect();
        match kind {
            0 => Owned::F32(v),
            1 => Owned::F16(v.iter().map(|&a| f16::from_f32(a)).collect()),
            _ => Owned::BF16(v.iter().map(|&a| bf16::from_f32(a)).collect()),
        }
    }
    fn r(&self) -> MatRef<'_> {
        match self {
            Owned::F32(v) => MatRef::F32(v),
            Owned::F16(v) => MatRef::F16(v),
            Owned::BF16(v) => MatRef::BF16(v),
        }
    }
}

/// Unit round-off of the f32 accumulation (the inputs widen to f32 exactly).
const U: f64 = 1.0 / (1u64 << 24) as f64;

fn check(cfg: &CpuConfig, xk: usize, wk: usize, (m, n, k): (usize, usize, usize)) {
    let x = Owned::new(xk, m * k, (m * 131 + k) as u64);
    let w = Owned::new(wk, n * k, (n * 71 + k) as u64);
    let mut y = vec![0f32; m * n];
    matmul::matmul(cfg, x.r(), w.r(), m, n, k, &mut y).unwrap();
    let r = reference::matmul(x.r(), w.r(), m, n, k).unwrap();
    let a = reference::matmul_abs(x.r(), w.r(), m, n, k).unwrap();
    for i in 0..m * n {
        let err = (y[i] as f64 - r[i]).abs();
        let bound = (k as f64 + 1.0) * U * a[i] + U * r[i].abs();
        assert!(
            err <= bound,
            "{cfg:?} x{xk} w{wk} M={m} N={n} K={k} index {i}: got {} expected {} err {err:e} > {bound:e}",
            y[i],
            r[i]
        );
    }
}

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 3, 17),
    (3, 17, 33),
    (4, 33, 257),
    (5, 17, 33),
    (17, 33, 257),
    (33, 257, 31),
    (1, 4097, 5),
    (64, 70, 300),
    // GEMM shapes crossing the K block (256/384), the row block (96) and edge tiles in M and N.
    (130, 300, 600),
    (97, 33, 385),
    (7, 65, 769),
];

fn configs() -> Vec<CpuConfig> {
    let mut v = Vec::new();
    for level in simd::machine_levels() {
        for threads in [1, 2, 3] {
            v.push(CpuConfig { level, threads });
        }
    }
    v
}

#[test]
fn float_matmul_every_level_every_dtype_pair() {
    for cfg in configs() {
        for xk in 0..3 {
            for wk in 0..3 {
                for &s in SHAPES {
                    check(&cfg, xk, wk, s);
                }
            }
        }
    }
}

#[test]
fn int8_and_w8a8_are_bit_exact_every_level() {
    for cfg in configs() {
        for &(m, n, k) in SHAPES.iter().chain(&[(2, 3, 4097)]) {
            let mut r = Rng((m + n + k) as u64);
            let x: Vec<i8> = (0..m * k).map(|_| r.next() as i8).collect();
            let w: Vec<i8> = (0..n * k).map(|_| r.next() as i8).collect();
            let sx: Vec<f32> = (0..m).map(|_| r.unit()).collect();
            let sw: Vec<f32> = (0..n).map(|_| r.unit()).collect();
            let mut acc = vec![0i32; m * n];
            matmul::matmul_i8(&cfg, &x, &w, m, n, k, &mut acc).unwrap();
            assert_eq!(
                acc,
                reference::matmul_i8(&x, &w, m, n, k).unwrap(),
                "{cfg:?} {m}x{n}x{k}"
            );
            let mut y = vec![0f32; m * n];
            matmul::w8a8(&cfg, &x, &sx, &w, &sw, m, n, k, &mut y).unwrap();
            let yr = reference::w8a8(&x, &sx, &w, &sw, m, n, k).unwrap();
            assert!(
                y.iter().zip(&yr).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{cfg:?} w8a8"
            );
        }
        // The extremes: -128 everywhere (every product +2¹⁴), and -128 · 127 (every product
        // -16256), at M = 1..6 and K = 4097, both against the reference and in closed form.
        for (a, b) in [(-128i8, -128i8), (-128, 127), (127, 127)] {
            for m in [1, 5] {
                let (n, k) = (3, 4097);
                let x = vec![a; m * k];
                let w = vec![b; n * k];
                let mut acc = vec![0i32; m * n];
                matmul::matmul_i8(&cfg, &x, &w, m, n, k, &mut acc).unwrap();
                assert!(acc.iter().all(|&v| v == a as i32 * b as i32 * k as i32));
                let (sx, sw) = (vec![0.25f32; m], vec![-3.0e-3f32; n]);
                let mut y = vec![0f32; m * n];
                matmul::w8a8(&cfg, &x, &sx, &w, &sw, m, n, k, &mut y).unwrap();
                let yr = reference::w8a8(&x, &sx, &w, &sw, m, n, k).unwrap();
                assert!(y.iter().zip(&yr).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
        }
    }
}

#[test]
fn int8_k_limit() {
    let cfg = CpuConfig::detect();
    let k = reference::I8_MAX_K;
    let x = vec![-128i8; k];
    assert_eq!(
        reference::matmul_i8(&x, &x, 1, 1, k).unwrap(),
        vec![16384 * k as i32]
    );
    let mut acc = [0i32; 1];
    matmul::matmul_i8(&cfg, &x, &x, 1, 1, k, &mut acc).unwrap();
    assert_eq!(acc[0], 16384 * k as i32);
    let x = vec![1i8; k + 1];
    assert!(reference::matmul_i8(&x, &x, 1, 1, k + 1).is_err());
    assert!(matmul::matmul_i8(&cfg, &x, &x, 1, 1, k + 1, &mut acc).is_err());
}

#[test]
fn level_above_the_machine_falls_back() {
    // Asking for every level, present or not, must run (capped to the machine), never fault.
    for level in [
        simd::SimdLevel::Scalar,
        simd::SimdLevel::Neon,
        simd::SimdLevel::Avx2,
        simd::SimdLevel::Avx512,
    ] {
        let cfg = CpuConfig { level, threads: 2 };
        check(&cfg, 0, 1, (3, 17, 33));
        check(&cfg, 0, 2, (17, 33, 257));
    }
}

#[test]
fn nested_calls_from_rayon_workers() {
    // The GEMM keeps per-thread packing buffers; calls from inside rayon jobs (which may steal
    // other calls while waiting) must neither panic nor mix results.
    use rayon::prelude::*;
    let cfg = CpuConfig {
        level: simd::detected(),
        threads: 2,
    };
    (0..8)
        .into_par_iter()
        .for_each(|i| check(&cfg, 0, i % 3, (20 + i, 40, 100)));
}

#[test]
fn bad_lengths_and_empty_shapes_are_errors() {
    let cfg = CpuConfig::detect();
    let mut y = vec![0f32; 4];
    let x = [1.0f32; 6];
    assert!(matmul::matmul(&cfg, MatRef::F32(&x), MatRef::F32(&x), 2, 2, 2, &mut y).is_err());
    assert!(matmul::matmul(&cfg, MatRef::F32(&x), MatRef::F32(&x), 0, 2, 3, &mut y).is_err());
    assert!(matmul::matmul(&cfg, MatRef::F32(&x), MatRef::F32(&x), 2, 2, 3, &mut y[..3]).is_err());
    let mut acc = [0i32; 1];
    assert!(matmul::matmul_i8(&cfg, &[1i8; 2], &[1i8; 3], 1, 1, 2, &mut acc).is_err());
    assert!(matmul::matmul_i8(&cfg, &[1i8; 2], &[1i8; 2], 1, 1, 2, &mut [0i32; 2]).is_err());
    assert!(matmul::matmul_i8(&cfg, &[], &[], 0, 1, 1, &mut []).is_err());
    let mut y1 = [0f32; 1];
    let (x2, w2) = ([1i8; 2], [1i8; 2]);
    assert!(matmul::w8a8(&cfg, &x2, &[1.0], &w2, &[1.0], 1, 1, 2, &mut y1).is_ok());
    // Scale lengths must be M and N.
    assert!(matmul::w8a8(&cfg, &x2, &[1.0, 2.0], &w2, &[1.0], 1, 1, 2, &mut y1).is_err());
    assert!(matmul::w8a8(&cfg, &x2, &[1.0], &w2, &[], 1, 1, 2, &mut y1).is_err());
    assert!(matmul::w8a8(&cfg, &x2, &[1.0], &w2, &[1.0], 1, 1, 2, &mut [0f32; 2]).is_err());
    // The message names what mismatched.
    let e = matmul::matmul(
        &cfg,
        MatRef::F32(&x[..5]),
        MatRef::F32(&x),
        2,
        3,
        2,
        &mut [0f32; 6],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("x has 5 elements") && e.contains("M*K = 4"),
        "{e}"
    );
    // Reference functions validate too.
    assert!(reference::matmul(MatRef::F32(&x), MatRef::F32(&x), 0, 1, 1).is_err());
    assert!(reference::matmul_abs(MatRef::F32(&x), MatRef::F32(&x[..5]), 2, 2, 3).is_err());
    assert!(reference::w8a8(&x2, &[1.0], &w2, &[1.0, 1.0], 1, 1, 2).is_err());
}

#[test]
fn read_sum_adds_everything() {
    // Short (all tail), one or a few 32-float steps of each of the eight streams per thread,
    // and odd tails after them; the sums are exact in f32.
    for len in [1000usize, 2 * 8 * 32, 2 * 8 * 32 * 3 + 17, 65_537] {
        let data: Vec<f32> = (0..len).map(|i| (i % 5) as f32).collect();
        let want: f32 = (0..len).map(|i| (i % 5) as f32).sum();
        for cfg in configs() {
            assert_eq!(
                lowbit_kernels::bandwidth::read_sum(&cfg, &data),
                want,
                "{len} {cfg:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_int8_shapes(m in 1usize..12, n in 1usize..20, k in 1usize..200, seed in 0u64..1000, li in 0usize..4) {
        let levels = simd::machine_levels();
        let cfg = CpuConfig { level: levels[li % levels.len()], threads: 2 };
        let mut r = Rng(seed);
        let x: Vec<i8> = (0..m * k).map(|_| r.next() as i8).collect();
        let w: Vec<i8> = (0..n * k).map(|_| r.next() as i8).collect();
        let mut acc = vec![0i32; m * n];
        matmul::matmul_i8(&cfg, &x, &w, m, n, k, &mut acc).unwrap();
        prop_assert_eq!(acc, reference::matmul_i8(&x, &w, m, n, k).unwrap());
    }

    #[test]
    fn random_shapes(m in 1usize..20, n in 1usize..40, k in 1usize..300, xk in 0usize..3, wk in 0usize..3, li in 0usize..4) {
        let levels = simd::machine_levels();
        let cfg = CpuConfig { level: levels[li % levels.len()], threads: 2 };
        check(&cfg, xk, wk, (m, n, k));
    }
}
