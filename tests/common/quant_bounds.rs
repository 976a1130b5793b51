//! The quantized matmul's bounds as ratios: `|got − ref| / bound` over an output (≤ 1 passes,
//! NaN when an output is NaN), the reference the f64 product of the decoded weights.

use lowbit_kernels::quant_matmul::int8_error_bound;

const U: f64 = 1.0 / (1u64 << 24) as f64;

/// The larger of two error ratios, NaN if either is (`f64::max` would drop a NaN output and
/// let it pass).
pub fn worse(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Max of |got − ref| / bound over the output (≤ 1 passes; NaN when an output is NaN), ref and
/// bound from `dequant`.
pub fn check(got: &[f32], deq: &[f32], x: &[f32], m: usize, n: usize, k: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for mi in 0..m {
        for j in 0..n {
            let (mut y, mut mag) = (0.0f64, 0.0f64);
            for i in 0..k {
                let p = f64::from(deq[j * k + i]) * f64::from(x[mi * k + i]);
                y += p;
                mag += p.abs();
            }
            let bound = (k as f64 + 1.0) * U * mag + U * y.abs() + f64::MIN_POSITIVE;
            worst = worse(worst, (f64::from(got[mi * n + j]) - y).abs() / bound);
        }
    }
    worst
}

/// `(m, n, k)`.
pub type Dims = (usize, usize, usize);

/// Like [`check`] for the int8 path: `R + (K+2)·u·(Σ|w·x| + R) + u·|y|` with `R` the error
/// quantising x may add (`int8_error_bound`) and `|w|` widened to `|w| + 2|o|` for the
/// formats whose offset or zero point `o` the kernels sum apart (`offset_parts`).
pub fn check_int8(got: &[f32], deq: &[f32], offs: &[f32], x: &[f32], (m, n, k): Dims) -> f64 {
    let mut worst: f64 = 0.0;
    for mi in 0..m {
        let xr = &x[mi * k..(mi + 1) * k];
        for j in 0..n {
            let wr = &deq[j * k..(j + 1) * k];
            let (mut y, mut mag) = (0.0f64, 0.0f64);
            for i in 0..k {
                let p = f64::from(wr[i]) * f64::from(xr[i]);
                y += p;
                let parts = f64::from(wr[i].abs() + 2.0 * offs[j * k + i].abs());
                mag += p.abs().max(parts * f64::from(xr[i].abs()));
            }
            let r = int8_error_bound(wr, xr);
            let bound = r + (k as f64 + 2.0) * U * (mag + r) + U * y.abs() + f64::MIN_POSITIVE;
            worst = worse(worst, (f64::from(got[mi * n + j]) - y).abs() / bound);
        }
    }
    worst
}
