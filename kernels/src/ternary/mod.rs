//! Ternary weights and their matmul (`shared/design/reference/shiftadd_ternary_fp.md` §4):
//! BitNet b1.58 (absmean per tensor), Tequila (per group of 128, plus a bias), GGUF TQ1_0 and
//! TQ2_0 kept in their own packing, bitnet.cpp's I2_S, and PTQTP's two trit-planes.
//!
//! The inner loops never multiply by a weight. With int8 activations (BitNet's A8: one absmax
//! scale per token, [`absmax_int8`]) each unit of 128 K positions gives an exact i32 sum
//! `Σ x·t` — the codes `t + 1 ∈ {0, 1, 2}` meet x in a byte dot product and the unit's `Σ x`
//! is subtracted once, as ggml-vulkan's TQ2_0 shader does; the GPU's portable path adds,
//! subtracts or skips. With f32 activations the trits select `+x`, `−x` or nothing.
//!
//! One f32 order, so that every kernel gives the same bits for int8 activations
//! (`reference::combine`): output `(n, token)` keeps 8 partials; partial `j` takes the units
//! `u ≡ j (mod 8)`, plane by plane in K order, adds the sums of consecutive units of one scale
//! group exactly, and folds each such run in as `acc_j = acc_j + s·run`; then
//! `y = (((acc_0 + acc_1) + (acc_2 + acc_3)) + ((acc_4 + acc_5) + (acc_6 + acc_7)))·x_scale + bias`
//! (no bias: `+0`). Products and sums are rounded separately: WGSL's `fma` may or may not fuse
//! (lavapipe does not), so the GPU is bit-exact where its compiler does not contract a product
//! and a sum into an FMA — lavapipe and llvmpipe GL, tested. With one scale per row (BitNet,
//! I2_S) that is 8 exact sums and a handful of roundings; with a scale per 128 positions, a
//! product and a sum per unit.

mod layout;
mod quant;
mod reference;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use layout::{
    base3_offset, TernaryWeights, TritPacking, BASE3_BLOCK, BASE3_BYTES, MAX_K, PARTIALS, UNIT,
};
pub use quant::{absmax_int8, absmean_ternary, absmean_ternary_groups, EPS};

use rayon::prelude::*;

use crate::{KernelError, SimdLevel};
use reference::{combine, unit_sums_f32, unit_sums_i8, RunSum};

/// The kernel [`ternary_matmul_i8`] runs at `level` on this machine (`"scalar"`, `"avx2"`,
/// `"avx512-vnni"`).
pub fn kernel_level(level: SimdLevel) -> &'static str {
    #[cfg(target_arch = "x86_64")]
    match x86::dot_for(level) {
        Some(x86::Dot::Vnni) => return "avx512-vnni",
        Some(x86::Dot::Avx2) => return "avx2",
        None => {}
    }
    let _ = level;
    "scalar"
}

fn check(
    w: &TernaryWeights,
    (x_len, m, y_len): (usize, usize, usize),
    bias: Option<&[f32]>,
) -> Result<(), KernelError> {
    crate::error::check_dims(x_len, w.n() * w.k(), y_len, m, w.n(), w.k())?;
    if let Some(b) = bias.filter(|b| b.len() != w.n()) {
        return Err(KernelError::Shape(format!(
            "a bias of {} values for N = {}",
            b.len(),
            w.n()
        )));
    }
    Ok(())
}

/// Rows of 16 per task: `block(r0, out, sums)` fills `out` (`[rows, m]`, transposed) for rows
/// `r0 ..`, with `sums` scratch space of `4·planes·units` values.
fn run_rows<T: RunSum + Send>(
    threads: usize,
    w: &TernaryWeights,
    m: usize,
    y: &mut [f32],
    block: impl Fn(usize, &mut [f32], &mut [T]) + Sync,
) {
    const ROWS: usize = 16;
    let n = w.n();
    // Room for four rows' sums (the x86 kernels form four at once).
    let len = 4 * w.planes() * w.units();
    let mut yt = vec![0f32; n * m];
    let task = |sums: &mut Vec<T>, (b, out): (usize, &mut [f32])| block(ROWS * b, out, sums);
    if threads <= 1 {
        let mut sums = vec![T::default(); len];
        yt.chunks_mut(ROWS * m)
            .enumerate()
            .for_each(|a| task(&mut sums, a));
    } else {
        yt.par_chunks_mut(ROWS * m)
            .enumerate()
            .for_each_init(|| vec![T::default(); len], task);
    }
    if m == 1 {
        y.copy_from_slice(&yt);
        return;
    }
    for (r, ys) in yt.chunks(m).enumerate() {
        for (t, &v) in ys.iter().enumerate() {
            y[t * n + r] = v;
        }
    }
}

/// Each token of x `[m, k]` zero-padded to `padded_k`.
fn padded<T: Copy + Default>(w: &TernaryWeights, x: &[T], m: usize) -> Vec<T> {
    let (k, kp) = (w.k(), w.padded_k());
    let mut xp = vec![T::default(); m * kp];
    for (dst, src) in xp.chunks_mut(kp).zip(x.chunks(k)) {
        dst[..k].copy_from_slice(src);
    }
    xp
}

/// The portable kernel: every output `(row, token)` of a block from its unit sums
/// (`unit_sums(plane, row, padded token, out)`) and `combine`.
fn portable_rows<X: Sync, T: RunSum + Send>(
    threads: usize,
    w: &TernaryWeights,
    (xp, m): (&[X], usize),
    (x_scale, bias): (impl Fn(usize) -> f32 + Sync, Option<&[f32]>),
    y: &mut [f32],
    unit_sums: impl Fn(&TernaryWeights, usize, usize, &[X], &mut [T]) + Sync,
) {
    let (kp, units) = (w.padded_k(), w.units());
    let block = |r0: usize, out: &mut [f32], sums: &mut [T]| {
        for (i, o) in out.iter_mut().enumerate() {
            let (r, t) = (r0 + i / m, i % m);
            let sums = &mut sums[..w.planes() * units];
            for (p, s) in sums.chunks_mut(units).enumerate() {
                unit_sums(w, p, r, &xp[t * kp..(t + 1) * kp], s);
            }
            *o = combine(w, r, sums, x_scale(t), bias.map_or(0.0, |b| b[r]));
        }
    };
    run_rows(threads, w, m, y, block);
}

/// `y = x · Wᵀ` with int8 x `[m, k]` (dequantised `x·x_scale[token]`), f32 y `[m, n]`, an
/// optional `bias[n]`; at the best SIMD level `LOWBIT_CPU_SIMD` allows.
pub fn ternary_matmul_i8(
    threads: usize,
    w: &TernaryWeights,
    x: &[i8],
    x_scales: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) -> Result<(), KernelError> {
    ternary_matmul_i8_at(crate::simd::detected(), threads, w, x, x_scales, bias, y)
}

/// [`ternary_matmul_i8`] at `level` (capped to the machine); every level gives the same bits.
pub fn ternary_matmul_i8_at(
    level: SimdLevel,
    threads: usize,
    w: &TernaryWeights,
    x: &[i8],
    x_scales: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) -> Result<(), KernelError> {
    let m = x_scales.len();
    check(w, (x.len(), m, y.len()), bias)?;
    let xp = padded(w, x, m);
    #[cfg(target_arch = "x86_64")]
    if let Some(dot) = x86::dot_for(level) {
        // Each token's sums per unit, subtracted once per unit by the SIMD kernels.
        let xsum: Vec<i32> = xp
            .chunks(UNIT)
            .map(|u| u.iter().map(|&v| i32::from(v)).sum())
            .collect();
        let tokens = x86::Tokens {
            x: &xp,
            xsum: &xsum,
            scales: x_scales,
            bias,
        };
        let block = |r0: usize, out: &mut [f32], sums: &mut [i32]| {
            // SAFETY: `dot` came from `dot_for`; `tokens` holds x padded for `w` and its unit sums.
            unsafe { x86::rows(dot, w, &tokens, r0, out, sums) }
        };
        run_rows(threads, w, m, y, block);
        return Ok(());
    }
    let _ = level;
    portable_rows(
        threads,
        w,
        (&xp, m),
        (|t| x_scales[t], bias),
        y,
        unit_sums_i8,
    );
    Ok(())
}

/// `y = x · Wᵀ` with f32 x `[m, k]`, f32 y `[m, n]`, an optional `bias[n]`: each trit adds,
/// subtracts or skips its x (within [`f32_error_bound`] of the exact result).
pub fn ternary_matmul_f32(
    threads: usize,
    w: &TernaryWeights,
    x: &[f32],
    m: usize,
    bias: Option<&[f32]>,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check(w, (x.len(), m, y.len()), bias)?;
    let xp = padded(w, x, m);
    portable_rows(threads, w, (&xp, m), (|_| 1.0, bias), y, unit_sums_f32);
    Ok(())
}

/// `x·Wᵀ (+ bias)` in f64 for f32 x `[m, K]`: the reference [`f32_error_bound`] bounds the
/// kernels' distance to (every plane's `s·t` is exact in f64, the sums round at f64's 2⁻⁵³).
///
/// For the operands of a matmul that accepted them: `x` must hold `m·K` values and `bias` `N`
/// (it panics otherwise, as slice indexing does).
pub fn exact_matmul_f64(w: &TernaryWeights, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f64> {
    let (n, k) = (w.n(), w.k());
    let mut d = vec![0f64; n * k];
    for p in 0..w.planes() {
        for r in 0..n {
            for c in 0..k {
                d[r * k + c] +=
                    f64::from(w.scale(p, r, c / w.group())) * f64::from(w.trit(p, r, c));
            }
        }
    }
    let mut y = vec![0f64; m * n];
    for t in 0..m {
        for r in 0..n {
            y[t * n + r] = (0..k)
                .map(|c| d[r * k + c] * f64::from(x[t * k + c]))
                .sum::<f64>()
                + bias.map_or(0.0, |b| f64::from(b[r]));
        }
    }
    y
}

/// A bound on `|y − x·Wᵀ|` for f32 x, any summation order: every term `s·x·t` passes through at
/// most `K + 16` roundings (the unit's sums, the run, the partial's sum and the tree), each within
/// `2^−24` relative, so `|err| ≤ (padded_k + 16)·2^−24·Σ_p Σ_k |s|·|x|·|t|` plus the bias add.
///
/// For the operands of a matmul that accepted them: `x` must hold `m·K` values and `bias` `N`
/// (it panics otherwise, as slice indexing does).
pub fn f32_error_bound(w: &TernaryWeights, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = (w.n(), w.k());
    let u = f64::from(f32::EPSILON) / 2.0;
    let gamma = (w.padded_k() + 16) as f64 * u;
    let mut out = vec![0f32; m * n];
    for t in 0..m {
        for r in 0..n {
            let mut mag = 0f64;
            for p in 0..w.planes() {
                for c in 0..k {
                    if w.trit(p, r, c) != 0 {
                        mag += f64::from(w.scale(p, r, c / w.group()).abs())
                            * f64::from(x[t * k + c].abs());
                    }
                }
            }
            let b = bias.map_or(0.0, |b| f64::from(b[r].abs()));
            out[t * n + r] = (gamma * (mag + b) * 1.01) as f32;
        }
    }
    out
}
