//! `lowbit validate`'s BCQ cases: seeded sign planes and APoT scales (planes 1–4, per-row-group
//! and per-8·j-column blocks, with a bias), each output within `bcq::error_bound` of the f64
//! product of the dequantised weights.

use crate::bcq::BcqMatrix;
use crate::context::Context;
use crate::error::Result;
use crate::ops::bcq_matmul;
use crate::tensor::Tensor;
use crate::validate::CaseResult;
use lowbit_kernels::bcq::{error_bound, BcqWeights};

fn seeded(len: usize, seed: u64) -> Vec<f32> {
    crate::bench::seeded_signed(len, seed)
}

/// `(largest |error| / bound, 1)` of one case: at most 1 passes.
fn run(
    ctx: &Context,
    (q, m, n, k): (usize, usize, usize, usize),
    (bk, bn): (usize, usize),
) -> Result<(f64, f64)> {
    let w = BcqWeights::quantize(&seeded(n * k, q as u64 + 7), (q, n, k), (bk, bn, 3))?;
    let x = seeded(m * k, 11);
    let bias = seeded(n, 13);
    let bound = error_bound(&w, &x, m, Some(&bias));
    let d = w.dequantize_f64();
    let wm = BcqMatrix::new(ctx, &w)?;
    let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
    let bt = Tensor::from_slice(ctx, &bias, &[n])?;
    let y = bcq_matmul(ctx, &xt, &wm, Some((&bt).into()))?.to_vec::<f32>()?;
    let mut worst = 0f64;
    for t in 0..m {
        for r in 0..n {
            let ex: f64 = (0..k)
                .map(|c| d[r * k + c] * f64::from(x[t * k + c]))
                .sum::<f64>()
                + f64::from(bias[r]);
            let i = t * n + r;
            worst = worst
                .max((f64::from(y[i]) - ex).abs() / f64::from(bound[i]).max(f64::MIN_POSITIVE));
        }
    }
    Ok((worst, 1.0))
}

/// Every BCQ case on `ctx`; `max_abs_err` is the largest error as a fraction of its bound.
pub fn bcq_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for q in [1usize, 2, 3, 4] {
        for (shape, blocks) in [
            ((1, 17, 33), (33, 17)),
            ((3, 33, 257), (257, 11)),
            ((2, 64, 512), (8, 8)),
        ] {
            let (m, n, k) = shape;
            let mut r = CaseResult::new(
                ctx,
                "bcq_matmul",
                "f32",
                format!("bcq{q}-{}x{}", blocks.0, blocks.1),
                "query-and-add",
                (m, n, k),
            );
            match run(ctx, (q, m, n, k), blocks) {
                Ok((err, bound)) => {
                    r.max_abs_err = err;
                    r.bound = bound;
                    r.pass = err <= bound;
                }
                Err(e) => r.error = Some(e.to_string()),
            }
            out.push(r);
        }
    }
    out
}
