//! `lowbit validate`'s ternary cases: seeded trits in both packings (one plane and PTQTP's two,
//! scales per row and per group of 128 and 256, with and without bias), int8 x against the bits
//! of `lowbit_kernels::ternary`'s CPU kernels, f32 x within `f32_error_bound` of them.

use crate::context::Context;
use crate::error::Result;
use crate::ops::ternary_matmul;
use crate::tensor::Tensor;
use crate::ternary::TernaryMatrix;
use crate::validate::{output_hash, CaseResult};
use crate::validate_quant::Lcg;
use lowbit_kernels::ternary::{
    f32_error_bound, ternary_matmul_f32, ternary_matmul_i8, TernaryWeights, TritPacking,
};

/// A value in [−1, 1] on a grid of 10⁻³.
fn unit(rng: &mut Lcg) -> f32 {
    (rng.next() % 2001) as f32 / 1000.0 - 1.0
}

/// `(error, bound, output hash)` of one case: int8 x, the count of outputs whose bits differ
/// (bound 0) and the hash of the output; f32 x, the largest difference from the CPU and twice
/// the bound (both are within it).
fn run(
    ctx: &Context,
    packing: TritPacking,
    (planes, m, n, k, group): (usize, usize, usize, usize, usize),
    f32_x: bool,
) -> Result<(f64, f64, Option<String>)> {
    let mut rng = Lcg((planes * 7 + k) as u64 + u64::from(f32_x));
    let t: Vec<i8> = (0..planes * n * k)
        .map(|_| (rng.next() % 3) as i8 - 1)
        .collect();
    let s: Vec<f32> = (0..planes * n * (k / group))
        .map(|_| unit(&mut rng) * 0.1)
        .collect();
    let w = TernaryWeights::from_trits(packing, (planes, n, k, group), &t, &s)?;
    let wm = TernaryMatrix::new(ctx, &w)?;
    let bias: Vec<f32> = (0..n).map(|_| unit(&mut rng)).collect();
    let bt = Tensor::from_slice(ctx, &bias, &[n])?;
    let mut want = vec![0f32; m * n];
    if f32_x {
        let x: Vec<f32> = (0..m * k).map(|_| unit(&mut rng) * 4.0).collect();
        ternary_matmul_f32(1, &w, &x, m, Some(&bias), &mut want)?;
        let bound = f32_error_bound(&w, &x, m, Some(&bias));
        let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
        let y = ternary_matmul(ctx, &xt, None, &wm, Some((&bt).into()))?.to_vec::<f32>()?;
        let err = y
            .iter()
            .zip(&want)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        let worst = bound.iter().fold(0f32, |a, &b| a.max(b));
        let inside = y
            .iter()
            .zip(&want)
            .zip(&bound)
            .all(|((a, b), e)| (a - b).abs() <= 2.0 * e);
        Ok((
            if inside { err } else { f64::INFINITY },
            2.0 * f64::from(worst),
            None,
        ))
    } else {
        let x: Vec<i8> = (0..m * k).map(|_| rng.next() as u8 as i8).collect();
        let xs: Vec<f32> = (0..m).map(|_| unit(&mut rng).abs() * 0.01 + 1e-4).collect();
        ternary_matmul_i8(1, &w, &x, &xs, Some(&bias), &mut want)?;
        let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
        let st = Tensor::from_slice(ctx, &xs, &[m])?;
        let y = ternary_matmul(ctx, &xt, Some((&st).into()), &wm, Some((&bt).into()))?
            .to_vec::<f32>()?;
        let bad = y
            .iter()
            .zip(&want)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        Ok((bad as f64, 0.0, Some(output_hash(&y))))
    }
}

/// Every ternary case on `ctx`.
pub fn ternary_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for packing in [TritPacking::Bits2, TritPacking::Base3] {
        for shape in [
            (1, 1, 17, 33, 33),
            (1, 3, 33, 257, 257),
            (2, 1, 17, 1024, 1024),
            (1, 5, 9, 1024, 128),
            (1, 1, 257, 512, 256),
        ] {
            for f32_x in [false, true] {
                let (planes, m, n, k, group) = shape;
                let mut r = CaseResult::new(
                    ctx,
                    "ternary_matmul",
                    if f32_x { "f32" } else { "i8" },
                    format!("ternary-{}-p{planes}-g{group}", packing.name()),
                    if f32_x { "add-sub" } else { "int8 exact" },
                    (m, n, k),
                );
                match run(ctx, packing, shape, f32_x) {
                    Ok((err, bound, hash)) => {
                        r.max_abs_err = err;
                        r.bound = bound;
                        r.pass = err <= bound;
                        r.output_hash = hash;
                    }
                    Err(e) => r.error = Some(e.to_string()),
                }
                out.push(r);
            }
        }
    }
    out
}
