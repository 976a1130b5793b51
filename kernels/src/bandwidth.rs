//! The CPU read-bandwidth bound: the fastest streaming read we have, threaded like the matmul.

use rayon::prelude::*;

use crate::matmul::CpuConfig;
use crate::SimdLevel;

/// Sums every element of `data` (SIMD, split over `cfg.threads` contiguous chunks); the time it
/// takes is the read bound memory-bound kernels (GEMV) are compared against.
pub fn read_sum(cfg: &CpuConfig, data: &[f32]) -> f32 {
    let chunk = data.len().div_ceil(cfg.threads.max(1)).max(1);
    let level = crate::simd::clamp(cfg.level);
    data.par_chunks(chunk).map(|c| sum(level, c)).sum()
}

fn sum(level: SimdLevel, d: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if level >= SimdLevel::Avx2 {
        // SAFETY: clamp() only returns levels the machine has, and Avx2 implies AVX.
        return unsafe { sum_avx(d) };
    }
    let _ = level;
    let mut acc = [0f32; 8];
    let mut chunks = d.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn sum_avx(d: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = d.len() / 32 * 32;
    let p = d.as_ptr();
    // SAFETY: every load reads 8 floats at offsets below n <= d.len().
    unsafe {
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let mut i = 0;
        while i < n {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p.add(i)));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p.add(i + 8)));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p.add(i + 16)));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p.add(i + 24)));
            i += 32;
        }
        let s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), s);
        lanes.iter().sum::<f32>() + d[n..].iter().sum::<f32>()
    }
}

/// Copies `src` into `dst` (equal lengths), split over `cfg.threads` contiguous chunks: the
/// copy bound (bytes read plus bytes written over its time).
pub fn copy(cfg: &CpuConfig, src: &[f32], dst: &mut [f32]) {
    let chunk = src.len().div_ceil(cfg.threads.max(1)).max(1);
    dst.par_chunks_mut(chunk)
        .zip(src.par_chunks(chunk))
        .for_each(|(d, s)| d.copy_from_slice(s));
}
