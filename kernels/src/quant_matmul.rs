//! `y = x · Wᵀ` with W in a GGUF block format, on the CPU: each block is decoded into a small
//! buffer (never the whole of W) and dotted with every token's slice of x, f32 accumulation,
//! threaded over W's rows.

use rayon::prelude::*;

use crate::formats::{dequantize_block, QuantType};
use crate::KernelError;

/// Rows per rayon task.
const ROWS_PER_TASK: usize = 16;

/// `Σ a[i]·b[i]` with eight partial sums (any order is within the f32 bound).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[8 * c + l] * b[8 * c + l];
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for i in 8 * chunks..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// `y[m·n + j] = Σ_k x[m·k + i]·W[j][i]` for x `[m, k]` f32, W `[n, k]` as `n` rows of
/// `ty` blocks (`w.len() = n · row_bytes(k)`), y `[m, n]`, on `threads` threads (≤ 1: this one).
#[allow(clippy::too_many_arguments)]
pub fn quant_matmul(
    threads: usize,
    ty: QuantType,
    w: &[u8],
    x: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    let row = ty.row_bytes(k)?;
    let check = |what: &str, got: usize, want: usize| {
        if got == want {
            Ok(())
        } else {
            Err(KernelError::Shape(format!(
                "quant_matmul {}: {what} has {got} elements, [m={m}, n={n}, k={k}] needs {want}",
                ty.name()
            )))
        }
    };
    check("W bytes", w.len(), n * row)?;
    check("x", x.len(), m * k)?;
    check("y", y.len(), m * n)?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    // Results row by row of W ([n, m]), transposed into y at the end.
    let mut yt = vec![0.0f32; n * m];
    let work = |(task, out): (usize, &mut [f32])| {
        let mut buf = [0.0f32; 256];
        let first = task * ROWS_PER_TASK;
        for (r, acc) in out.chunks_mut(m).enumerate() {
            let wr = &w[(first + r) * row..(first + r + 1) * row];
            for b in 0..k / be {
                let vals = &mut buf[..be];
                dequantize_block(ty, &wr[b * bb..(b + 1) * bb], vals);
                for (mi, a) in acc.iter_mut().enumerate() {
                    *a += dot(vals, &x[mi * k + b * be..mi * k + (b + 1) * be]);
                }
            }
        }
    };
    if threads <= 1 {
        yt.chunks_mut(ROWS_PER_TASK * m).enumerate().for_each(work);
    } else {
        yt.par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(work);
    }
    for j in 0..n {
        for mi in 0..m {
            y[mi * n + j] = yt[j * m + mi];
        }
    }
    Ok(())
}
