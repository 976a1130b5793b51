//! `lowbit validate`'s power-of-two weight cases: seeded codes (bits 3 and 6, with and without a
//! zero code), f32 x per channel and per group, i32 fixed-point x per channel, each output's
//! bits against `lowbit_kernels::shift`'s CPU kernels.

use crate::context::Context;
use crate::error::Result;
use crate::ops::shift_matmul;
use crate::shift::ShiftMatrix;
use crate::tensor::Tensor;
use crate::validate::{output_hash, CaseResult};
use lowbit_kernels::shift::{shift_matmul_f32, shift_matmul_i32, ShiftWeights};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// `(mismatching outputs, output hash)` of one case.
fn run(
    ctx: &Context,
    bits: u32,
    zero: bool,
    (m, n, k, group): (usize, usize, usize, usize),
    fixed: bool,
) -> Result<(usize, String)> {
    let mut rng = Lcg(u64::from(bits) * 131 + k as u64);
    let codes: Vec<u8> = (0..n * k)
        .map(|_| (rng.next() % (1 << bits)) as u8)
        .collect();
    let scales: Vec<f32> = (0..n * (k / group))
        .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let w = ShiftWeights::from_codes(bits, zero, (n, k, group), &codes, &scales)?;
    let wm = ShiftMatrix::new(ctx, &w)?;
    if fixed {
        let x: Vec<i32> = (0..m * k)
            .map(|_| (rng.next() as i32) - (1 << 30))
            .collect();
        let mut want = vec![0i32; m * n];
        shift_matmul_i32(1, &w, &x, m, &mut want)?;
        let y = shift_matmul(ctx, &Tensor::from_slice(ctx, &x, &[m, k])?, &wm)?.to_vec::<i32>()?;
        Ok((
            y.iter().zip(&want).filter(|(a, b)| a != b).count(),
            output_hash(&y),
        ))
    } else {
        let x: Vec<f32> = (0..m * k)
            .map(|_| ((rng.next() % 2001) as f32 / 1000.0 - 1.0) * 64.0)
            .collect();
        let mut want = vec![0f32; m * n];
        shift_matmul_f32(1, &w, &x, m, &mut want)?;
        let y = shift_matmul(ctx, &Tensor::from_slice(ctx, &x, &[m, k])?, &wm)?.to_vec::<f32>()?;
        let bad = y
            .iter()
            .zip(&want)
            .filter(|(a, b)| a.to_bits() != b.to_bits())
            .count();
        Ok((bad, output_hash(&y)))
    }
}

/// Every shift case on `ctx`; `max_abs_err` counts the outputs whose bits differ.
pub fn shift_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for bits in [3u32, 6] {
        for zero in [false, true] {
            for (shape, fixed) in [
                ((1, 17, 33, 33), false),
                ((3, 5, 68, 4), false),
                ((2, 33, 257, 257), true),
            ] {
                let (m, n, k, group) = shape;
                let mut r = CaseResult::new(
                    ctx,
                    "shift_matmul",
                    if fixed { "i32" } else { "f32" },
                    format!("shift{bits}{}-g{group}", if zero { "z" } else { "" }),
                    if fixed { "fixed" } else { "float" },
                    (m, n, k),
                );
                match run(ctx, bits, zero, shape, fixed) {
                    Ok((bad, hash)) => {
                        r.max_abs_err = bad as f64;
                        r.pass = bad == 0;
                        r.output_hash = Some(hash);
                    }
                    Err(e) => r.error = Some(e.to_string()),
                }
                out.push(r);
            }
        }
    }
    out
}
