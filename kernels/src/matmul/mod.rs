//! The CPU backend's matmul: `y = x · Wᵀ` for any pair of float dtypes (f32 accumulation), and
//! int8 with exact i32 accumulation. M ≤ 4 takes the GEMV path (each W row read once, all x
//! rows dotted with it), larger M the blocked GEMM; both threaded over rows of W.

mod gemm;
mod gemv;
#[cfg(target_arch = "x86_64")]
mod gemv_x86;
mod int8;
#[cfg(target_arch = "x86_64")]
mod int8_x86;
mod microkernel;
#[cfg(target_arch = "x86_64")]
mod microkernel_avx2;
#[cfg(target_arch = "x86_64")]
mod microkernel_avx512;
#[cfg(target_arch = "aarch64")]
mod neon;

pub use int8::{matmul_i8, w8a8};

use rayon::prelude::*;

use crate::error::check_dims;
use crate::{KernelError, MatRef, SimdLevel};

/// Largest M the GEMV path takes.
pub const GEMV_MAX_M: usize = 4;

/// How the CPU backend runs: SIMD level and thread count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuConfig {
    /// The SIMD level (capped to what the machine has when a kernel runs).
    pub level: SimdLevel,
    /// Threads to split W's rows over.
    pub threads: usize,
}

impl CpuConfig {
    /// The detected level (capped by `LOWBIT_CPU_SIMD`) on every hardware thread.
    pub fn detect() -> Self {
        CpuConfig {
            level: crate::simd::detected(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// The level actually run: the requested one, capped to what this machine has.
    pub fn effective_level(&self) -> SimdLevel {
        crate::simd::clamp(self.level)
    }
}

/// `y = x · Wᵀ` for x `[m, k]`, W `[n, k]` in f32, f16 or bf16 (any pair), y `[m, n]` f32.
pub fn matmul(
    cfg: &CpuConfig,
    x: MatRef,
    w: MatRef,
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check_dims(x.len(), w.len(), y.len(), m, n, k)?;
    let level = cfg.effective_level();
    // x is small next to W (decode) or reused across all of W (prefill): widen it to f32 once.
    let xf: std::borrow::Cow<[f32]> = match x {
        MatRef::F32(d) => d.into(),
        _ => {
            let mut v = vec![0f32; m * k];
            x.copy_f32(0, &mut v);
            v.into()
        }
    };
    if m <= GEMV_MAX_M {
        gemv::gemv(level, cfg.threads, &xf, w, m, n, k, y);
    } else {
        gemm::gemm(level, cfg.threads, &xf, w, m, n, k, y);
    }
    Ok(())
}

/// Splits `0..n` into `pieces` (at most) contiguous ranges whose lengths are multiples of
/// `align` and runs `f(start, end)` on each, on rayon's pool; with one thread, inline.
pub(crate) fn par_ranges(
    n: usize,
    threads: usize,
    pieces: usize,
    align: usize,
    f: impl Fn(usize, usize) + Sync,
) {
    let pieces = pieces.min(n.div_ceil(align)).max(1);
    if threads <= 1 || pieces == 1 {
        f(0, n);
        return;
    }
    let len = n.div_ceil(pieces).div_ceil(align) * align;
    (0..n.div_ceil(len)).into_par_iter().for_each(|i| {
        let s = i * len;
        f(s, (s + len).min(n));
    });
}
