//! int8 matmul with exact i32 accumulation, and the W8A8 epilogue (one shared expression,
//! [`crate::reference::w8a8_scale`], so CPU, reference and GPU agree bit for bit). The SIMD
//! dots are in `int8_x86`.

use super::gemv::OutPtr;
use super::{par_ranges, CpuConfig};
use crate::reference::{check_i8, check_scales, w8a8_scale};
use crate::{KernelError, SimdLevel};

/// `acc = x · Wᵀ` in i32, bit-exact.
pub fn matmul_i8(
    cfg: &CpuConfig,
    x: &[i8],
    w: &[i8],
    m: usize,
    n: usize,
    k: usize,
    acc: &mut [i32],
) -> Result<(), KernelError> {
    check_i8(x, w, m, n, k)?;
    if acc.len() != m * n {
        return Err(KernelError::Shape(format!(
            "acc has {} elements, expected M*N = {}",
            acc.len(),
            m * n
        )));
    }
    let level = cfg.effective_level();
    let out = OutPtr(acc.as_mut_ptr());
    // Threads own contiguous ranges of W rows; x rows go four at a time, so each W row is
    // read from L1 by the SIMD kernel once per four x rows (once in all for M <= 4).
    par_ranges(n, cfg.threads, cfg.threads * 4, 1, |s, e| {
        for j in s..e {
            let wr = &w[j * k..(j + 1) * k];
            for i0 in (0..m).step_by(4) {
                let rows = 4.min(m - i0);
                let v = dot_tile(level, &x[i0 * k..(i0 + rows) * k], wr, rows, k);
                for (r, v) in v.iter().enumerate().take(rows) {
                    // SAFETY: i0 + r < m and j < n, so the index is below m·n = acc.len();
                    // this range owns column j.
                    unsafe { *out.get().add((i0 + r) * n + j) = *v };
                }
            }
        }
    });
    Ok(())
}

/// W8A8: `y = f32(acc) · (x_scale[i] · w_scale[j])`, bit-exact with the reference and the GPU.
#[allow(clippy::too_many_arguments)]
pub fn w8a8(
    cfg: &CpuConfig,
    x: &[i8],
    x_scale: &[f32],
    w: &[i8],
    w_scale: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check_scales(x_scale, w_scale, m, n)?;
    if y.len() != m * n {
        return Err(KernelError::Shape(format!(
            "y has {} elements, expected M*N = {}",
            y.len(),
            m * n
        )));
    }
    let mut acc = vec![0i32; m * n];
    matmul_i8(cfg, x, w, m, n, k, &mut acc)?;
    for (idx, (yv, a)) in y.iter_mut().zip(&acc).enumerate() {
        *yv = w8a8_scale(*a, x_scale[idx / n], w_scale[idx % n]);
    }
    Ok(())
}

/// `out[i] = x row i · w` for the `m` (1..=4) rows of x.
fn dot_tile(level: SimdLevel, x: &[i8], w: &[i8], m: usize, k: usize) -> [i32; 4] {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        return super::int8_x86::dot_tile(level, x, w, m, k);
    }
    let _ = level;
    let mut out = [0i32; 4];
    for (i, o) in out.iter_mut().enumerate().take(m) {
        // i32 sums: exact for K <= I8_MAX_K (checked by the caller).
        *o = x[i * k..(i + 1) * k]
            .iter()
            .zip(w)
            .map(|(&p, &q)| p as i32 * q as i32)
            .sum();
    }
    out
}
