//! Scalar reference kernels: obviously correct loops, f64 accumulation of exactly widened inputs.
//! They are the ground truth the SIMD and GPU kernels are tested against.

use crate::error::check_dims;
use crate::{KernelError, MatRef};

/// Largest K for which int8 products summed in i32 cannot overflow (128² · K < 2³¹).
pub const I8_MAX_K: usize = 131_071;

fn check_float(x: &MatRef, w: &MatRef, m: usize, n: usize, k: usize) -> Result<(), KernelError> {
    check_dims(x.len(), w.len(), m.saturating_mul(n), m, n, k)
}

/// `y[i, j] = Σ_k x[i, k] · w[j, k]` in f64.
pub fn matmul(x: MatRef, w: MatRef, m: usize, n: usize, k: usize) -> Result<Vec<f64>, KernelError> {
    check_float(&x, &w, m, n, k)?;
    let mut y = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for l in 0..k {
                s += x.get_f32(i * k + l) as f64 * w.get_f32(j * k + l) as f64;
            }
            y[i * n + j] = s;
        }
    }
    Ok(y)
}

/// `Σ_k |x[i, k] · w[j, k]|` in f64: the scale of the rounding error bound.
pub fn matmul_abs(
    x: MatRef,
    w: MatRef,
    m: usize,
    n: usize,
    k: usize,
) -> Result<Vec<f64>, KernelError> {
    check_float(&x, &w, m, n, k)?;
    let mut y = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for l in 0..k {
                s += (x.get_f32(i * k + l) as f64 * w.get_f32(j * k + l) as f64).abs();
            }
            y[i * n + j] = s;
        }
    }
    Ok(y)
}

pub(crate) fn check_i8(
    x: &[i8],
    w: &[i8],
    m: usize,
    n: usize,
    k: usize,
) -> Result<(), KernelError> {
    check_dims(x.len(), w.len(), m.saturating_mul(n), m, n, k)?;
    if k > I8_MAX_K {
        return Err(KernelError::Shape(format!(
            "K = {k} could overflow an i32 accumulator (K <= {I8_MAX_K})"
        )));
    }
    Ok(())
}

/// Exact int8 matmul with i32 accumulators.
pub fn matmul_i8(
    x: &[i8],
    w: &[i8],
    m: usize,
    n: usize,
    k: usize,
) -> Result<Vec<i32>, KernelError> {
    check_i8(x, w, m, n, k)?;
    let mut y = vec![0i32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0i32;
            for l in 0..k {
                s += x[i * k + l] as i32 * w[j * k + l] as i32;
            }
            y[i * n + j] = s;
        }
    }
    Ok(y)
}

pub(crate) fn check_scales(xs: &[f32], ws: &[f32], m: usize, n: usize) -> Result<(), KernelError> {
    if xs.len() != m || ws.len() != n {
        return Err(KernelError::Shape(format!(
            "scales have {} and {} elements, expected M = {m} and N = {n}",
            xs.len(),
            ws.len()
        )));
    }
    Ok(())
}

/// The W8A8 epilogue, one expression everywhere so every backend is bit-exact:
/// `f32(acc) · (x_scale · w_scale)`.
#[inline]
pub fn w8a8_scale(acc: i32, x_scale: f32, w_scale: f32) -> f32 {
    acc as f32 * (x_scale * w_scale)
}

/// W8A8: `y[i, j] = f32(acc[i, j]) · (x_scale[i] · w_scale[j])`.
pub fn w8a8(
    x: &[i8],
    x_scale: &[f32],
    w: &[i8],
    w_scale: &[f32],
    m: usize,
    n: usize,
    k: usize,
) -> Result<Vec<f32>, KernelError> {
    check_scales(x_scale, w_scale, m, n)?;
    let acc = matmul_i8(x, w, m, n, k)?;
    Ok((0..m * n)
        .map(|i| w8a8_scale(acc[i], x_scale[i / n], w_scale[i % n]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_known_products() {
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let w = [1.0f32, 0.0, -1.0, 0.5];
        let y = matmul(MatRef::F32(&x), MatRef::F32(&w), 2, 2, 2).unwrap();
        assert_eq!(y, vec![1.0, 0.0, 3.0, -1.0]);
        let a = matmul_abs(MatRef::F32(&x), MatRef::F32(&w), 2, 2, 2).unwrap();
        assert_eq!(a, vec![1.0, 2.0, 3.0, 5.0]);
        assert_eq!(
            matmul_i8(&[-128, 127], &[-128, -128], 1, 1, 2).unwrap(),
            vec![128]
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(matmul(MatRef::F32(&[1.0; 3]), MatRef::F32(&[1.0; 4]), 2, 2, 2).is_err());
        assert!(matmul_i8(&[], &[], 0, 1, 1).is_err());
        assert!(w8a8(&[1], &[1.0, 2.0], &[1], &[1.0], 1, 1, 1).is_err());
    }
}
