//! Batch evaluation over slices, threaded over contiguous chunks on rayon's pool.

use super::{log_ikv, log_iv, log_kv};
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

/// `out[i] = log I_{v[i]}(x[i])`, on `threads` threads (≤ 1: this thread only).
pub fn log_iv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> Result<(), KernelError> {
    check_len("x", x.len(), v.len())?;
    check_len("out", out.len(), v.len())?;
    chunked(v, x, out, threads, |vc, xc, o| {
        for ((o, &v), &x) in o.iter_mut().zip(vc).zip(xc) {
            *o = log_iv(v, x);
        }
    });
    Ok(())
}

/// `out[i] = log K_{v[i]}(x[i])`, on `threads` threads (≤ 1: this thread only).
pub fn log_kv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [f64],
    threads: usize,
) -> Result<(), KernelError> {
    check_len("x", x.len(), v.len())?;
    check_len("out", out.len(), v.len())?;
    chunked(v, x, out, threads, |vc, xc, o| {
        for ((o, &v), &x) in o.iter_mut().zip(vc).zip(xc) {
            *o = log_kv(v, x);
        }
    });
    Ok(())
}

/// `out[i] = (log I_{v[i]}(x[i]), log K_{v[i]}(x[i]))`, on `threads` threads.
pub fn log_ikv_slice(
    v: &[f64],
    x: &[f64],
    out: &mut [(f64, f64)],
    threads: usize,
) -> Result<(), KernelError> {
    check_len("x", x.len(), v.len())?;
    check_len("out", out.len(), v.len())?;
    chunked(v, x, out, threads, |vc, xc, o| {
        for ((o, &v), &x) in o.iter_mut().zip(vc).zip(xc) {
            *o = log_ikv(v, x);
        }
    });
    Ok(())
}
