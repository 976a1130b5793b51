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

/// How far ahead each stream of the sum prefetches, in bytes.
#[cfg(target_arch = "x86_64")]
const PREFETCH: usize = 2048;

/// Concurrent streams per thread: one stream per core left a 2-vCPU Xeon at 19–20 GB/s, eight
/// (each with a software prefetch) at 25–28 (a scratch probe, the buffer evicted between runs),
/// which the GEMVs that read several rows at once can reach: a bound below them would be no
/// bound (the f16 GEMV measured 1.04–1.11 of the one-stream sum).
#[cfg(target_arch = "x86_64")]
const STREAMS: usize = 8;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn sum_avx(d: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    // STREAMS equal runs of whole 32-float steps; the tail after them in scalar code.
    let len = d.len() / STREAMS / 32 * 32;
    let p = d.as_ptr();
    let mut acc = [_mm256_setzero_ps(); STREAMS];
    let mut i = 0;
    while i < len {
        for (s, a) in acc.iter_mut().enumerate() {
            // SAFETY: s·len + i + 32 ≤ STREAMS·len ≤ d.len(); the prefetch address may run
            // past d (prefetches never fault), hence wrapping_add.
            unsafe {
                let q = p.add(s * len + i);
                let ahead = (q as *const i8).wrapping_add(PREFETCH);
                _mm_prefetch::<_MM_HINT_T0>(ahead);
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64));
                let v = _mm256_add_ps(
                    _mm256_add_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(q.add(8))),
                    _mm256_add_ps(_mm256_loadu_ps(q.add(16)), _mm256_loadu_ps(q.add(24))),
                );
                *a = _mm256_add_ps(*a, v);
            }
        }
        i += 32;
    }
    let mut total = _mm256_setzero_ps();
    for a in acc {
        total = _mm256_add_ps(total, a);
    }
    let mut lanes = [0f32; 8];
    // SAFETY: 8 writable floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), total) };
    lanes.iter().sum::<f32>() + d[STREAMS * len..].iter().sum::<f32>()
}

/// Copies `src` into `dst` (equal lengths), split over `cfg.threads` contiguous chunks: the
/// copy bound (bytes read plus bytes written over its time).
pub fn copy(cfg: &CpuConfig, src: &[f32], dst: &mut [f32]) -> Result<(), crate::KernelError> {
    if src.len() != dst.len() {
        return Err(crate::KernelError::Shape(format!(
            "copy: {} values into {}",
            src.len(),
            dst.len()
        )));
    }
    let chunk = src.len().div_ceil(cfg.threads.max(1)).max(1);
    dst.par_chunks_mut(chunk)
        .zip(src.par_chunks(chunk))
        .for_each(|(d, s)| d.copy_from_slice(s));
    Ok(())
}
