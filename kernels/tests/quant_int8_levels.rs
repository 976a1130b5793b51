//! The quantized-matmul paths at every SIMD level of this machine, checked tightly. Exact
//! path: within the f32 bound of the reference decoder's weights times x. Int8 path: x is
//! quantised here exactly as the kernels do (`dx = max|x|/127` per block of 32,
//! `q = x·(1/dx)` rounded to nearest even, clamped to ±127), so the only error left is f32
//! rounding of the integer-exact block sums — bounded by `(K+2)·2⁻²⁴·Σ|w·x̂| + 2⁻²⁴·|y|`.
//! A lane, block or token mixed up in a kernel is far outside that. Shapes walk every way the
//! kernels split a row (groups of four blocks, a pair, a single block) and 1 to 9 tokens.

mod common;

use common::Lcg;
use lowbit_kernels::formats::{dequantize_row, QuantType};
use lowbit_kernels::quant_matmul::{
    int8_error_bound, offset_parts, quant_matmul, QuantPath, PANEL_MIN_M,
};
use lowbit_kernels::simd::machine_levels;

const U: f64 = 1.0 / (1u64 << 24) as f64;

/// x as the kernels see it after quantisation.
fn quantised(x: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for b in x.chunks(32) {
        let amax = b.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        let d = amax / 127.0;
        let id = if d > 0.0 { 1.0 / d } else { 0.0 };
        out.extend(
            b.iter()
                .map(|&v| (v * id).clamp(-127.0, 127.0).round_ties_even() * d),
        );
    }
    out
}

/// Weight bytes for `ty` whose f16 scales are finite, small and sometimes subnormal.
fn weights(ty: QuantType, n: usize, k: usize, rng: &mut Lcg) -> Vec<u8> {
    let row = ty.row_bytes(k).unwrap();
    let mut w: Vec<u8> = (0..n * row).map(|_| rng.next() as u8).collect();
    use QuantType as Q;
    let scale_offsets: &[usize] = match ty {
        Q::Q4_K | Q::Q5_K | Q::Q4_1 | Q::Q5_1 => &[0, 2],
        Q::Q2_K => &[80, 82],
        Q::Q3_K => &[108],
        Q::Q6_K => &[208],
        Q::TQ1_0 => &[52],
        Q::TQ2_0 => &[64],
        // E8M0 and UE4M3 scales: any byte is a finite scale (MXFP4's is kept near 2⁰); FP8's
        // f32 scale is set below.
        Q::MXFP4 | Q::NVFP4 | Q::F8E4M3 | Q::F8E5M2 => &[],
        _ => &[0],
    };
    for block in w.chunks_mut(ty.block_bytes()) {
        if ty == Q::MXFP4 {
            block[0] = 110 + (rng.next() % 30) as u8;
        }
        if matches!(ty, Q::F8E4M3 | Q::F8E5M2) {
            // A plain f32 scale and finite codes (E4M3's NaN, E5M2's top exponent, moved).
            block[..4].copy_from_slice(&(0.37f32 + (rng.next() % 100) as f32 / 64.0).to_le_bytes());
            for c in &mut block[4..] {
                if (ty == Q::F8E4M3 && *c & 0x7f == 0x7f) || (ty == Q::F8E5M2 && *c & 0x7c == 0x7c)
                {
                    *c ^= 0x04;
                }
            }
        }
        for &at in scale_offsets {
            // Exponent field 0..=14 (subnormal up to ~0.5), any mantissa, either sign.
            let h = (rng.next() as u16 & 0x83ff) | (((rng.next() % 15) as u16) << 10);
            block[at..at + 2].copy_from_slice(&h.to_le_bytes());
        }
    }
    w
}

fn check(ty: QuantType, n: usize, k: usize, m: usize, rng: &mut Lcg) {
    check_x(ty, n, k, m, rng, true);
    check_x(ty, n, k, m, rng, false);
}

/// `extremes`: a zero block, a block with one huge value and exact ±max values in x. The huge
/// value widens every row's bound (its product dominates `Σ|w·x̂|`), so [`check`] also runs
/// without them, where a wrong scale or offset of any block is far outside the bound.
fn check_x(ty: QuantType, n: usize, k: usize, m: usize, rng: &mut Lcg, extremes: bool) {
    let w = weights(ty, n, k, rng);
    let row = ty.row_bytes(k).unwrap();
    let mut x: Vec<f32> = (0..m * k).map(|_| rng.unit()).collect();
    if extremes {
        x[..32].fill(0.0);
        if k >= 64 {
            x[40] = 1e6;
        }
        x[m * k - 1] = -x.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
    }
    let mut deq = vec![0.0f32; n * k];
    for (wr, dr) in w.chunks(row).zip(deq.chunks_mut(k)) {
        dequantize_row(ty, wr, dr).unwrap();
    }
    let offs = offset_parts(ty, &w, k)
        .unwrap()
        .unwrap_or_else(|| vec![0.0; n * k]);
    let runs = machine_levels()
        .into_iter()
        .flat_map(|l| [(l, QuantPath::Int8), (l, QuantPath::Exact)]);
    for (level, path) in runs {
        let mut y = vec![0.0f32; m * n];
        quant_matmul(path, level, 2, ty, &w, &x, m, n, k, &mut y).unwrap();
        // The int8 path's SIMD levels work on quantised x; the scalar level takes the exact
        // path, whose weights are the reference decoder's and x is used as it is.
        // From PANEL_MIN_M tokens on, both paths decode W exactly into panels.
        let int8 =
            path == QuantPath::Int8 && level >= lowbit_kernels::SimdLevel::Avx2 && m < PANEL_MIN_M;
        for t in 0..m {
            let xr = &x[t * k..(t + 1) * k];
            let xq = if int8 { quantised(xr) } else { xr.to_vec() };
            for j in 0..n {
                let wr = &deq[j * k..(j + 1) * k];
                let or = &offs[j * k..(j + 1) * k];
                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                for ((&a, &b), &o) in wr.iter().zip(&xq).zip(or) {
                    exact += f64::from(a) * f64::from(b);
                    let parts = if int8 {
                        f64::from(a.abs() + 2.0 * o.abs())
                    } else {
                        0.0
                    };
                    mag += (f64::from(a) * f64::from(b))
                        .abs()
                        .max(parts * f64::from(b.abs()));
                }
                let got = f64::from(y[t * n + j]);
                let bound = (k as f64 + 2.0) * U * mag + U * exact.abs() + f64::MIN_POSITIVE;
                assert!(
                    (got - exact).abs() <= bound,
                    "{} {level:?} {path:?} n{n} k{k} m{m} token {t} row {j}: got {got}, want {exact} ± {bound}",
                    ty.name()
                );
                // And the derived int8 bound holds against the unquantised x.
                if int8 {
                    let full: f64 = wr
                        .iter()
                        .zip(xr)
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum();
                    assert!((got - full).abs() <= int8_error_bound(wr, xr) + 2.0 * bound);
                }
            }
        }
    }
}

#[test]
fn q4_0_and_q8_0_every_split_of_a_row() {
    let mut rng = Lcg(11);
    for ty in [QuantType::Q4_0, QuantType::Q8_0] {
        // 1..=12 blocks: every remainder after groups of four, with and without groups.
        for blocks in 1..=12 {
            for m in [1, 2, 3, 4, 5, 9] {
                check(ty, 3, 32 * blocks, m, &mut rng);
            }
        }
        check(ty, 17, 32 * 129, 1, &mut rng);
    }
}

#[test]
fn q4_k_super_blocks() {
    let mut rng = Lcg(12);
    for sb in [1, 2, 3, 5] {
        for m in [1, 2, 3, 4, 5] {
            check(QuantType::Q4_K, 3, 256 * sb, m, &mut rng);
        }
    }
    check(QuantType::Q4_K, 33, 256 * 17, 1, &mut rng);
}

#[test]
fn every_generic_format_every_unit() {
    use QuantType as Q;
    let mut rng = Lcg(13);
    let formats = [
        Q::Q4_1,
        Q::Q5_0,
        Q::Q5_1,
        Q::IQ4_NL,
        Q::IQ4_XS,
        Q::MXFP4,
        Q::NVFP4,
        Q::Q2_K,
        Q::Q3_K,
        Q::Q5_K,
        Q::Q6_K,
        Q::TQ1_0,
        Q::TQ2_0,
        Q::I4G32,
        Q::I4G64,
        Q::I4G128,
    ];
    for ty in formats {
        let be = ty.block_elems();
        for blocks in [1, 2, 3] {
            for m in [1, 2, 3, 4, 5] {
                check(ty, 3, be * blocks, m, &mut rng);
            }
        }
        check(ty, 17, be * (2048 / be + 1), 1, &mut rng);
    }
}

/// Q4_1, Q5_0, Q5_1, IQ4_NL, MXFP4 and I4G take Q4_0's groups of four 32s on 512-bit vectors
/// where K is a multiple of 128 (AVX-512 VNNI machines); the unit test above never has such a
/// K.
#[test]
fn nibble_formats_in_groups_of_four() {
    let mut rng = Lcg(17);
    use QuantType as Q;
    for ty in [
        Q::Q4_0,
        Q::Q4_1,
        Q::Q5_0,
        Q::Q5_1,
        Q::IQ4_NL,
        Q::MXFP4,
        Q::I4G32,
        Q::I4G64,
        Q::I4G128,
    ] {
        for blocks in [4, 8, 12] {
            for m in [1, 2, 3, 4, 5, 9] {
                check(ty, 3, 32 * blocks, m, &mut rng);
            }
        }
        check(ty, 17, 4096, 1, &mut rng);
        check(ty, 5, 4096, 4, &mut rng);
    }
}

/// Prefill: W decoded into panels for the dense GEMM, every format and level, both paths;
/// 1100 rows of 256 make two panels (1024 rows, then a partial one) for a decoder of each
/// kind (reference, SIMD unit, FP8 table).
#[test]
fn many_tokens_through_panels() {
    let mut rng = Lcg(14);
    for ty in lowbit_kernels::formats::ALL {
        if matches!(ty, QuantType::F32 | QuantType::F16 | QuantType::BF16) {
            continue;
        }
        let be = ty.block_elems();
        check(ty, 67, be * (256 / be).max(1), PANEL_MIN_M + 1, &mut rng);
    }
    for ty in [QuantType::Q4_0, QuantType::Q6_K, QuantType::F8E4M3] {
        check(ty, 1100, 256, PANEL_MIN_M, &mut rng);
    }
}
