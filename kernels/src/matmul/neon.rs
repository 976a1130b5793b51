//! aarch64 NEON GEMV dots (NEON is part of the aarch64 baseline, so no run-time check is needed
//! for soundness). f16/bf16 weights are widened 64 at a time into a stack buffer first: simple,
//! and the GEMV stays memory-bound.

use std::arch::aarch64::*;

use crate::MatRef;

/// `acc[i] = Σ_{l<kl} x[i·k + l] · w[w0 + l]` for the m ≤ 4 rows of x (row stride k).
pub(super) fn dot_rows(
    x: &[f32],
    w: MatRef,
    w0: usize,
    m: usize,
    k: usize,
    kl: usize,
    acc: &mut [f32; 4],
) {
    if let MatRef::F32(d) = w {
        for (i, a) in acc.iter_mut().enumerate().take(m) {
            *a = dot(&x[i * k..i * k + kl], &d[w0..w0 + kl]);
        }
        return;
    }
    let mut buf = [0f32; 64];
    *acc = [0.0; 4];
    let mut l = 0;
    while l < kl {
        let len = 64.min(kl - l);
        w.copy_f32(w0 + l, &mut buf[..len]);
        for (i, a) in acc.iter_mut().enumerate().take(m) {
            *a += dot(&x[i * k + l..i * k + l + len], &buf[..len]);
        }
        l += len;
    }
}

/// Dot product of two equally long slices, two independent accumulators.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let k = a.len().min(b.len());
    let mut l = 0;
    // SAFETY: NEON is baseline on aarch64; every load reads [l, l + 4) with l + 4 <= k, inside
    // both slices.
    let mut s = unsafe {
        let (mut s0, mut s1) = (vdupq_n_f32(0.0), vdupq_n_f32(0.0));
        while l + 8 <= k {
            s0 = vfmaq_f32(
                s0,
                vld1q_f32(a.as_ptr().add(l)),
                vld1q_f32(b.as_ptr().add(l)),
            );
            s1 = vfmaq_f32(
                s1,
                vld1q_f32(a.as_ptr().add(l + 4)),
                vld1q_f32(b.as_ptr().add(l + 4)),
            );
            l += 8;
        }
        vaddvq_f32(vaddq_f32(s0, s1))
    };
    for q in l..k {
        s += a[q] * b[q];
    }
    s
}
