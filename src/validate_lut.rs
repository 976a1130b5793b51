//! `lowbit validate`'s LUT cases: seeded b-bit weights (bits 1–4, groups of 16 to K, K = 4,
//! 68 and over several chunks, odd N), each kernel (f32 tables, int8 tables, dequantise in
//! registers) on the context, every output within `lowbit_kernels::lut::error_bound` of the
//! f64 product of the dequantised weights (f32 bound; int8 tables add their derived rounding
//! term).

use crate::context::Context;
use crate::error::Result;
use crate::lut::LutMatrix;
use crate::ops::lut::{lut_matmul_with, LutKernel};
use crate::tensor::Tensor;
use crate::validate::CaseResult;
use lowbit_kernels::lut::{error_bound, LutPrecision, LutWeights};

/// Seeded codes, scales (either sign) and zero points (integers and half-integers).
fn seeded(bits: u32, n: usize, k: usize, group: usize, seed: u64) -> Result<LutWeights> {
    let mut s = seed;
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    };
    let codes: Vec<u8> = (0..n * k).map(|_| (next() % (1 << bits)) as u8).collect();
    let g = k / group;
    let scales: Vec<f32> = (0..n * g)
        .map(|_| (next() % 2001) as f32 / 20000.0 - 0.05)
        .collect();
    let zeros: Vec<f32> = (0..n * g)
        .map(|_| (next() % (2 << bits)) as f32 * 0.5)
        .collect();
    Ok(LutWeights::from_codes(
        bits,
        n,
        k,
        group,
        &codes,
        &scales,
        Some(&zeros),
    )?)
}

const KERNELS: [LutKernel; 3] = [
    LutKernel::Table(LutPrecision::F32),
    LutKernel::Table(LutPrecision::Int8),
    LutKernel::Dequant,
];

/// (M, N, K, group) of the seeded cases.
const SHAPES: &[(usize, usize, usize, usize)] = &[
    (1, 1, 4, 4),
    (3, 17, 68, 68),
    (1, 33, 256, 32),
    (5, 40, 272, 16),
    (16, 3, 384, 128),
];

/// Every LUT case on `ctx`.
pub fn lut_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for bits in 1..=4u32 {
        for (i, &(m, n, k, group)) in SHAPES.iter().enumerate() {
            for kernel in KERNELS {
                let mut r = CaseResult::new(
                    ctx,
                    "lut_matmul",
                    "f32",
                    format!("lut{bits}-g{group}"),
                    kernel.name(),
                    (m, n, k),
                );
                let seed = u64::from(bits) * 100 + i as u64;
                match check(ctx, kernel, bits, (m, n, k, group), seed) {
                    Ok((err, bound, pass)) => {
                        r.max_abs_err = err;
                        r.bound = bound;
                        r.pass = pass;
                    }
                    Err(e) => r.error = Some(e.to_string()),
                }
                out.push(r);
            }
        }
    }
    out
}

/// `(worst error, its bound, every output within its bound)`.
fn check(
    ctx: &Context,
    kernel: LutKernel,
    bits: u32,
    (m, n, k, group): (usize, usize, usize, usize),
    seed: u64,
) -> Result<(f64, f64, bool)> {
    let w = seeded(bits, n, k, group, seed)?;
    let x: Vec<f32> = {
        let mut s = seed ^ 0x9e37;
        (0..m * k)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    };
    let wm = LutMatrix::new(ctx, &w)?;
    let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
    let y = lut_matmul_with(ctx, &xt, &wm, kernel)?.to_vec::<f32>()?;
    let prec = match kernel {
        LutKernel::Table(p) => p,
        LutKernel::Dequant => LutPrecision::F32,
    };
    let wd = w.dequantize();
    let (mut worst, mut at_bound, mut pass) = (0f64, 0f64, true);
    for t in 0..m {
        let xr = &x[t * k..(t + 1) * k];
        for r in 0..n {
            let want: f64 = (0..k)
                .map(|c| f64::from(wd[r * k + c]) * f64::from(xr[c]))
                .sum();
            let err = (f64::from(y[t * n + r]) - want).abs();
            let bound = error_bound(&w, xr, r, prec);
            pass &= err <= bound;
            if err >= worst {
                worst = err;
                at_bound = bound;
            }
        }
    }
    Ok((worst, at_bound, pass))
}
