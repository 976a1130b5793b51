//! CPU compute ceilings, the roof of a roofline: how fast this machine multiplies and adds f32
//! (fused multiply-adds) and int8 (the dot-product instructions the int8 kernels use) at a SIMD
//! level, from registers only, threaded like the matmul. A burst returns the work it did; the
//! caller times it (`lowbit::ceilings`).

use rayon::prelude::*;

use crate::matmul::CpuConfig;
use crate::SimdLevel;

/// Independent accumulators per thread: enough to cover a multiply-add's latency times the
/// units that issue it (4 cycles × 2 units on current x86 and Arm cores).
const CHAINS: usize = 12;

/// What a burst did: operations (a multiply-add counts 2, as in 2·M·N·K) and a value the caller
/// keeps, so that no work is optimised away.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Burst {
    /// Operations done.
    pub ops: u64,
    /// Derived from every accumulator.
    pub sink: f64,
}

impl std::iter::Sum for Burst {
    fn sum<I: Iterator<Item = Burst>>(it: I) -> Burst {
        it.fold(Burst::default(), |a, b| Burst {
            ops: a.ops + b.ops,
            sink: a.sink + b.sink,
        })
    }
}

/// `iters` rounds of f32 multiply-adds on every thread of `cfg`.
pub fn f32_fma_burst(cfg: &CpuConfig, iters: usize) -> Burst {
    let level = crate::simd::clamp(cfg.level);
    (0..cfg.threads.max(1))
        .into_par_iter()
        .map(|t| f32_thread(level, iters, 1.0 + t as f32))
        .sum()
}

/// `iters` rounds of int8 multiply-adds (into i32) on every thread of `cfg`.
pub fn int8_dot_burst(cfg: &CpuConfig, iters: usize) -> Burst {
    let level = crate::simd::clamp(cfg.level);
    (0..cfg.threads.max(1))
        .into_par_iter()
        .map(|t| int8_thread(level, iters, (t % 100) as i8 + 1))
        .sum()
}

fn f32_thread(level: SimdLevel, iters: usize, seed: f32) -> Burst {
    #[cfg(target_arch = "x86_64")]
    {
        if level >= SimdLevel::Avx512 {
            // SAFETY: clamp() returns only levels the machine has; Avx512 implies AVX-512 F.
            return unsafe { x86::f32_avx512(iters, seed) };
        }
        if level >= SimdLevel::Avx2 {
            // SAFETY: as above; Avx2 implies FMA.
            return unsafe { x86::f32_avx2(iters, seed) };
        }
    }
    #[cfg(target_arch = "aarch64")]
    if level >= SimdLevel::Neon {
        // SAFETY: clamp() returns only levels the machine has.
        return unsafe { neon::f32_neon(iters, seed) };
    }
    let _ = level;
    let (m, c) = (0.999_999f32, seed * 1e-7);
    let mut acc = [seed; CHAINS];
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = *a * m + c;
        }
    }
    Burst {
        ops: (2 * CHAINS * iters) as u64,
        sink: acc.iter().map(|&v| f64::from(v)).sum(),
    }
}

fn int8_thread(level: SimdLevel, iters: usize, seed: i8) -> Burst {
    #[cfg(target_arch = "x86_64")]
    {
        if level >= SimdLevel::Avx512 && is_x86_feature_detected!("avx512vnni") {
            // SAFETY: VNNI was just detected; Avx512 implies AVX-512 F and BW.
            return unsafe { x86::int8_vnni(iters, seed) };
        }
        if level >= SimdLevel::Avx2 {
            // SAFETY: clamp() returns only levels the machine has.
            return unsafe { x86::int8_avx2(iters, seed) };
        }
    }
    let _ = level;
    let b = [seed; 16];
    let mut acc = [0i32; CHAINS];
    let mut a = [1i8; 16];
    for i in 0..iters {
        a[i % 16] = a[i % 16].wrapping_add(1);
        for (j, s) in acc.iter_mut().enumerate() {
            *s = s.wrapping_add(
                a.iter()
                    .zip(&b)
                    .map(|(&p, &q)| i32::from(p) * i32::from(q.wrapping_add(j as i8)))
                    .sum::<i32>(),
            );
        }
    }
    Burst {
        ops: (2 * 16 * CHAINS * iters) as u64,
        sink: acc.iter().map(|&v| f64::from(v)).sum(),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Burst, CHAINS};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn f32_avx512(iters: usize, seed: f32) -> Burst {
        // acc·m + c converges to c / (1 − m): no overflow, no subnormals.
        let (m, c) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(seed * 1e-7));
        let mut acc = [_mm512_set1_ps(seed); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let s = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &a| _mm512_add_ps(s, a));
        Burst {
            ops: (2 * 16 * CHAINS * iters) as u64,
            sink: f64::from(_mm512_reduce_add_ps(s)),
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn f32_avx2(iters: usize, seed: f32) -> Burst {
        let (m, c) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(seed * 1e-7));
        let mut acc = [_mm256_set1_ps(seed); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let s = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), s) };
        Burst {
            ops: (2 * 8 * CHAINS * iters) as u64,
            sink: lanes.iter().map(|&v| f64::from(v)).sum(),
        }
    }

    /// `vpdpbusd` on zmm, as the VNNI int8 kernels use it (64 multiply-adds an instruction).
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn int8_vnni(iters: usize, seed: i8) -> Burst {
        let (a, b) = (_mm512_set1_epi8(3), _mm512_set1_epi8(seed));
        let mut acc = [_mm512_setzero_si512(); CHAINS];
        for _ in 0..iters {
            for s in acc.iter_mut() {
                *s = _mm512_dpbusd_epi32(*s, a, b);
            }
        }
        let s = acc
            .iter()
            .fold(_mm512_setzero_si512(), |s, &v| _mm512_add_epi32(s, v));
        Burst {
            ops: (2 * 64 * CHAINS * iters) as u64,
            sink: f64::from(_mm512_reduce_add_epi32(s)),
        }
    }

    /// `vpmaddubsw` + `vpmaddwd` + add, as the AVX2 int8 kernels use them (32 multiply-adds of
    /// bytes counted).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn int8_avx2(iters: usize, seed: i8) -> Burst {
        let (a, b, ones) = (
            _mm256_set1_epi8(3),
            _mm256_set1_epi8(seed),
            _mm256_set1_epi16(1),
        );
        // Each chain feeds its own bytes back in, so no product is loop-invariant.
        let mut acc: [__m256i; CHAINS] = std::array::from_fn(|i| _mm256_set1_epi8(i as i8 + 1));
        for _ in 0..iters {
            for s in acc.iter_mut() {
                *s = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(*s, b), ones));
            }
        }
        let s = acc
            .iter()
            .fold(_mm256_setzero_si256(), |s, &v| _mm256_add_epi32(s, v));
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds 8 i32.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), s) };
        Burst {
            ops: (2 * 32 * CHAINS * iters) as u64,
            sink: lanes.iter().map(|&v| f64::from(v)).sum(),
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use super::{Burst, CHAINS};
    use std::arch::aarch64::*;

    #[target_feature(enable = "neon")]
    pub(super) unsafe fn f32_neon(iters: usize, seed: f32) -> Burst {
        let (m, c) = (vdupq_n_f32(0.999_999), vdupq_n_f32(seed * 1e-7));
        let mut acc = [vdupq_n_f32(seed); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = vfmaq_f32(c, *a, m);
            }
        }
        let s = acc.iter().fold(vdupq_n_f32(0.0), |s, &a| vaddq_f32(s, a));
        Burst {
            ops: (2 * 4 * CHAINS * iters) as u64,
            sink: f64::from(vaddvq_f32(s)),
        }
    }
}
