//! `lowbit validate`'s L-Mul cases: the element-wise product over special and seeded values
//! and the GEMV over awkward shapes, for m = 2, 3, 4, 7, 23, bit-exact against the CPU kernels
//! of `lowbit_kernels::lmul`.

use crate::context::Context;
use crate::error::Result;
use crate::ops::{lmul_elementwise, lmul_matmul};
use crate::tensor::Tensor;
use crate::validate::{output_hash, CaseResult};
use lowbit_kernels::lmul::{lmul_bits, lmul_gemv};

const MBITS: [u32; 5] = [2, 3, 4, 7, 23];

fn seeded(len: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (((s >> 33) % 20001) as f32 / 10000.0 - 1.0) * scale
        })
        .collect()
}

/// Special operands: zeros, a subnormal, the normal range's edges, infinities, NaN.
const SPECIALS: [f32; 12] = [
    0.0,
    -0.0,
    1e-40,
    1.0e-19,
    -1.2e-19,
    1.5,
    -1.999_999_9,
    1.9e19,
    f32::MAX,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
];

fn case(
    ctx: &Context,
    mbits: u32,
    variant: String,
    (m, n, k): (usize, usize, usize),
) -> CaseResult {
    // The emulated mantissa width tells cases apart: a report keys outputs by dtypes and shape.
    CaseResult::new(
        ctx,
        "lmul",
        "f32",
        format!("f32-lmul-m{mbits}"),
        variant,
        (m, n, k),
    )
}

/// `(mismatching outputs, output hash)` of a run against the CPU's bits.
fn compare(got: &[f32], want: &[u32]) -> (usize, String) {
    let bad = got
        .iter()
        .zip(want)
        .filter(|(g, w)| g.to_bits() != **w)
        .count();
    (bad, output_hash(got))
}

fn elementwise(ctx: &Context, mbits: u32) -> Result<(usize, String)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &p in &SPECIALS {
        for &q in &SPECIALS {
            a.push(p);
            b.push(q);
        }
    }
    a.extend(seeded(500, 1, 8.0));
    b.extend(seeded(500, 2, 8.0));
    let at = Tensor::from_slice(ctx, &a, &[a.len()])?;
    let bt = Tensor::from_slice(ctx, &b, &[b.len()])?;
    let y = lmul_elementwise(ctx, &at, &bt, mbits)?.to_vec::<f32>()?;
    let want: Vec<u32> = a
        .iter()
        .zip(&b)
        .map(|(p, q)| lmul_bits(p.to_bits(), q.to_bits(), mbits))
        .collect();
    Ok(compare(&y, &want))
}

fn gemv(ctx: &Context, (m, n, k): (usize, usize, usize), mbits: u32) -> Result<(usize, String)> {
    let x = seeded(m * k, 3 + k as u64, 4.0);
    let w = seeded(n * k, 4 + n as u64, 1.0);
    let mut want = vec![0f32; m * n];
    lmul_gemv(
        lowbit_kernels::SimdLevel::Scalar,
        1,
        &x,
        &w,
        (m, n, k),
        mbits,
        &mut want,
    )?;
    let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
    let wt = Tensor::from_slice(ctx, &w, &[n, k])?;
    let y = lmul_matmul(ctx, &xt, &wt, mbits)?.to_vec::<f32>()?;
    let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
    Ok(compare(&y, &want))
}

/// One case's name, shape and `(mismatches, output hash)`.
type Run = (String, (usize, usize, usize), Result<(usize, String)>);

/// Every L-Mul case on `ctx`; `max_abs_err` counts the outputs whose bits differ.
pub fn lmul_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for mbits in MBITS {
        let mut runs: Vec<Run> = vec![(
            format!("elementwise.m{mbits}"),
            (1, SPECIALS.len() * SPECIALS.len() + 500, 1),
            elementwise(ctx, mbits),
        )];
        for shape in [(1, 17, 3), (3, 33, 257), (2, 5, 4097)] {
            runs.push((format!("gemv.m{mbits}"), shape, gemv(ctx, shape, mbits)));
        }
        for (name, shape, res) in runs {
            let mut r = case(ctx, mbits, name, shape);
            match res {
                Ok((bad, hash)) => {
                    r.max_abs_err = bad as f64;
                    r.pass = bad == 0;
                    r.output_hash = Some(hash);
                }
                Err(e) => r.error = Some(e.to_string()),
            }
            out.push(r);
        }
    }
    out
}
