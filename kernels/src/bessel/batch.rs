//! Batch evaluation over slices, threaded over contiguous chunks on rayon's pool. Within a
//! chunk, blocks of 64 points go through the uniform expansion together: their logs are
//! gathered and taken by a vectorised `ln` (AVX-512 / AVX2 / portable), the rest point by
//! point. The results stay within the single-point functions' accuracy (tested against the
//! reference file through these entry points).

use super::uniform::{self, Prepared, Want};
use super::vec_ln::{self, ln_in_place};
use super::{log_ikv, log_iv, log_kv, series, small_k, Region};
use crate::simd::SimdLevel;
use crate::KernelError;
use rayon::prelude::*;

/// Points per task: large enough to amortise scheduling, small enough that threads stay
/// balanced when regions of different cost cluster in the input.
const CHUNK: usize = 2048;

fn check_len(what: &str, len: usize, n: usize) -> Result<(), KernelError> {
    if len == n {
        Ok(())
    } else {
        Err(KernelError::Shape(format!(
            "bessel: {what} has {len} elements, v has {n}"
        )))
    }
}

/// Points evaluated together: the uniform-region ones among them have their logs taken in one
/// vectorised pass.
const BLOCK: usize = 64;

/// `(log I, log K)` (an unwanted one NaN) for up to [`BLOCK`] points: the small region and the
/// uniform points the batch path does not take point by point, the rest with their logs
/// gathered and taken at once. Compiled once per SIMD level (the uniform expansion's
/// polynomials and the gathered logs vectorise).
fn eval_block(v: &[f64], x: &[f64], want: Want, level: SimdLevel, out: &mut [(f64, f64)]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level is one `detected()` reported, so the CPU has AVX-512.
        SimdLevel::Avx512 => unsafe { eval_block_avx512(v, x, want, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, the CPU has AVX2 and FMA.
        SimdLevel::Avx2 => unsafe { eval_block_avx2(v, x, want, out) },
        _ => eval_block_body(v, x, want, SimdLevel::Scalar, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn eval_block_avx512(v: &[f64], x: &[f64], want: Want, out: &mut [(f64, f64)]) {
    eval_block_body(v, x, want, SimdLevel::Avx512, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn eval_block_avx2(v: &[f64], x: &[f64], want: Want, out: &mut [(f64, f64)]) {
    eval_block_body(v, x, want, SimdLevel::Avx2, out)
}

#[inline(always)]
fn eval_block_body(v: &[f64], x: &[f64], want: Want, level: SimdLevel, out: &mut [(f64, f64)]) {
    let mut idx = [0usize; BLOCK];
    let mut prep = [Prepared::default(); BLOCK];
    let mut ln_a = [0.0; BLOCK];
    let mut ln_i = [0.0; BLOCK];
    let mut ln_k = [0.0; BLOCK];
    let mut n = 0;
    for j in 0..v.len() {
        // No closure here: it would be compiled apart from this function's SIMD level.
        let p = if Region::of(v[j], x[j]) == Region::Uniform {
            uniform::prepare(v[j], x[j])
        } else {
            None
        };
        match p {
            Some(p) => {
                idx[n] = j;
                ln_a[n] = p.asinh_arg;
                ln_i[n] = p.i_arg;
                ln_k[n] = p.k_arg;
                prep[n] = p;
                n += 1;
            }
            None if Region::of(v[j], x[j]) == Region::Small => {
                // Inlined here, so compiled at this function's SIMD level too.
                let li = if want == Want::K {
                    f64::NAN
                } else {
                    series::log_i(v[j], x[j])
                };
                let lk = if want == Want::I {
                    f64::NAN
                } else {
                    small_k::log_k(v[j], x[j])
                };
                out[j] = (li, lk);
            }
            None => {
                out[j] = match want {
                    Want::I => (log_iv(v[j], x[j]), f64::NAN),
                    Want::K => (f64::NAN, log_kv(v[j], x[j])),
                    Want::Both => log_ikv(v[j], x[j]),
                }
            }
        }
    }
    ln_in_place(&mut ln_a[..n], level);
    if want != Want::K {
        ln_in_place(&mut ln_i[..n], level);
    }
    if want != Want::I {
        ln_in_place(&mut ln_k[..n], level);
    }
    for c in 0..n {
        out[idx[c]] = prep[c].finish(ln_a[c], ln_i[c], ln_k[c]);
    }
}

/// [`eval_block`] over a chunk, writing through `put(index, (log I, log K))`.
fn eval_chunk(
    v: &[f64],
    x: &[f64],
    want: Want,
    level: SimdLevel,
    mut put: impl FnMut(usize, (f64, f64)),
) {
    let mut buf = [(0.0, 0.0); BLOCK];
    for start in (0..v.len()).step_by(BLOCK) {
        let end = (start + BLOCK).min(v.len());
        let out = &mut buf[..end - start];
        eval_block(&v[start..end], &x[start..end], want, level, out);
        for (j, &r) in out.iter().enumerate() {
            put(start + j, r);
        }
    }
}

/// Runs `f(v_chunk, x_chunk, out_chunk)` over matching chunks, serially when `threads ≤ 1`.
fn chunked<T: Send>(
    v: &[f64],
    x: &[f64],
    out: &mut [T],
    threads: usize,
    f: impl Fn(&[f64], &[f64], &mut [T]) + Sync,
) {
    if threads <= 1 || v.len() <= CHUNK {
        f(v, x, out);
    } else {
        out.par_chunks_mut(CHUNK)
            .zip(v.par_chunks(CHUNK).zip(x.par_chunks(CHUNK)))
            .for_each(|(o, (vc, xc))| f(vc, xc, o));
    }
}

/// One of the two logs into `out`, on `threads` threads.
fn one_log_slice(
    want: Want,
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> Result<(), KernelError> {
    check_len("x", x.len(), v.len())?;
    check_len("out", out.len(), v.len())?;
    let level = vec_ln::level();
    chunked(v, x, out, threads, |vc, xc, o| {
        eval_chunk(vc, xc, want, level, |i, r| {
            o[i] = if want == Want::I { r.0 } else { r.1 }
        });
    });
    Ok(())
}

/// `out[i] = log I_{v[i]}(x[i])`, on `threads` threads (≤ 1: this thread only).
pub fn log_iv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> Result<(), KernelError> {
    one_log_slice(Want::I, v, x, out, threads)
}

/// `out[i] = log K_{v[i]}(x[i])`, on `threads` threads (≤ 1: this thread only).
pub fn log_kv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> Result<(), KernelError> {
    one_log_slice(Want::K, v, x, out, threads)
}

/// `out[i] = (log I_{v[i]}(x[i]), log K_{v[i]}(x[i]))`, on `threads` threads.
pub fn log_ikv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [(f64, f64)],
    threads: usize,
) -> Result<(), KernelError> {
    log_ikv_slice_at(crate::simd::detected(), v, x, out, threads)
}

/// [`log_ikv_slice`] at a chosen SIMD level (capped to what the machine has), for tests that
/// run every level.
pub fn log_ikv_slice_at(
    level: SimdLevel,
    v: &[f64],
    x: &[f64],
    out: &mut [(f64, f64)],
    threads: usize,
) -> Result<(), KernelError> {
    check_len("x", x.len(), v.len())?;
    check_len("out", out.len(), v.len())?;
    let level = crate::simd::clamp(level);
    chunked(v, x, out, threads, |vc, xc, o| {
        eval_chunk(vc, xc, Want::Both, level, |i, r| o[i] = r);
    });
    Ok(())
}
