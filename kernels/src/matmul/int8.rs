//! int8 matmul with exact i32 accumulation, and the W8A8 epilogue. AVX2 widens i8 to i16 and
//! uses `vpmaddwd` (pairwise i16 products summed into i32: exact, as |x·w| ≤ 2¹⁴).

use super::{par_ranges, CpuConfig};
use crate::reference::{check_i8, check_scales, w8a8_scale};
use crate::{KernelError, SimdLevel};

/// Shares the i32 output between threads writing disjoint columns.
#[derive(Clone, Copy)]
struct OutI32(*mut i32);
// SAFETY: threads write disjoint index sets (their own rows of W).
unsafe impl Send for OutI32 {}
unsafe impl Sync for OutI32 {}

impl OutI32 {
    fn get(self) -> *mut i32 {
        self.0
    }
}

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
    let out = OutI32(acc.as_mut_ptr());
    par_ranges(n, cfg.threads, 1, |s, e| {
        for j in s..e {
            let wr = &w[j * k..(j + 1) * k];
            for i in 0..m {
                let v = dot_i8(level, &x[i * k..(i + 1) * k], wr);
                // SAFETY: i < m, j < n; this range owns column j.
                unsafe { *out.get().add(i * n + j) = v };
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

fn dot_i8(level: SimdLevel, a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        // SAFETY: the level was clamped to the machine's, so AVX2 is present; a and b have the
        // same length and the kernel reads only below it.
        return unsafe { dot_i8_avx2(a, b) };
    }
    let _ = level;
    a.iter().zip(b).map(|(&p, &q)| p as i32 * q as i32).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let k = a.len();
    // SAFETY: every 16-byte load reads [l, l+16) with l + 16 <= k = a.len() = b.len().
    unsafe {
        let mut acc = _mm256_setzero_si256();
        let mut l = 0;
        while l + 16 <= k {
            let av = _mm256_cvtepi8_epi16(_mm_loadu_si128(a.as_ptr().add(l) as *const __m128i));
            let bv = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().add(l) as *const __m128i));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(av, bv));
            l += 16;
        }
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc);
        let mut s: i32 = lanes.iter().sum();
        for t in l..k {
            s += a[t] as i32 * b[t] as i32;
        }
        s
    }
}
