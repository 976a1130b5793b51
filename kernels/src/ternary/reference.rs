//! The portable ternary kernels. [`combine`] is the one place the f32 operation order lives;
//! every kernel (SIMD, GPU) forms the same unit sums and combines them the same way.

use super::layout::{TernaryWeights, PARTIALS, UNIT};

/// Exact sums `Σ x·t` of one token (`x` padded with zeros to `padded_k`) against plane `p`,
/// row `r`, one per unit, into `out[..units]`.
pub(crate) fn unit_sums_i8(w: &TernaryWeights, p: usize, r: usize, x: &[i8], out: &mut [i32]) {
    for (u, o) in out.iter_mut().enumerate().take(w.units()) {
        *o = (u * UNIT..(u + 1) * UNIT)
            .map(|c| i32::from(x[c]) * i32::from(w.trit(p, r, c)))
            .sum();
    }
}

/// Float sums of one token against plane `p`, row `r`, one per unit: the trits add, subtract
/// or skip `x` into eight lane sums (position `c` in lane `c % 8`), added as a tree.
pub(crate) fn unit_sums_f32(w: &TernaryWeights, p: usize, r: usize, x: &[f32], out: &mut [f32]) {
    for (u, o) in out.iter_mut().enumerate().take(w.units()) {
        let mut lanes = [0f32; 8];
        for c in u * UNIT..(u + 1) * UNIT {
            let l = &mut lanes[c % 8];
            match w.trit(p, r, c) {
                1 => *l += x[c],
                -1 => *l -= x[c],
                _ => {}
            }
        }
        *o = tree(lanes);
    }
}

/// `((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))`.
#[inline(always)]
pub(crate) fn tree(a: [f32; 8]) -> f32 {
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

/// A unit sum's running total before it is scaled: i32 (exact) or f32.
pub(crate) trait RunSum: Copy + Default + std::ops::AddAssign {
    /// The total as f32 (i32: rounded to nearest even).
    fn to_f32(self) -> f32;
}

impl RunSum for i32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

impl RunSum for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
}

/// Output `(r, token)` from its unit sums `sums[p·units + u]` (module docs): partial
/// `j = u % 8` runs over its units plane by plane in K order, adding the sums of consecutive
/// units of one scale group exactly (i32) and folding each run in as `acc_j + scale·run`; then
/// `y = tree(acc)·x_scale + bias` (products and sums each rounded, never fused).
#[inline(always)]
pub(crate) fn combine<T: RunSum>(
    w: &TernaryWeights,
    r: usize,
    sums: &[T],
    x_scale: f32,
    bias: f32,
) -> f32 {
    let (units, groups) = (w.units(), w.groups());
    let unit_group = w.unit_groups();
    // Each partial in a local (an element of `acc` kept in memory would chain every add
    // through a store and a load).
    let mut acc = [0f32; PARTIALS];
    if groups == 1 {
        // One run per partial and plane: the same operations without the group checks.
        for (j, acc_j) in acc.iter_mut().enumerate().take(units) {
            let mut a = 0f32;
            for (p, sums) in sums.chunks_exact(units).enumerate() {
                let mut run = T::default();
                for &v in sums[j..].iter().step_by(PARTIALS) {
                    run += v;
                }
                a += w.scales()[p * w.n() + r] * run.to_f32();
            }
            *acc_j = a;
        }
        return tree(acc) * x_scale + bias;
    }
    for (j, acc_j) in acc.iter_mut().enumerate().take(units) {
        let mut a = 0f32;
        for (p, sums) in sums.chunks_exact(units).enumerate() {
            let scales = &w.scales()[(p * w.n() + r) * groups..][..groups];
            let mut run = T::default();
            let mut group = unit_group[j];
            for u in (j..units).step_by(PARTIALS) {
                let g = unit_group[u];
                if g != group {
                    a += scales[group as usize] * run.to_f32();
                    run = T::default();
                    group = g;
                }
                run += sums[u];
            }
            a += scales[group as usize] * run.to_f32();
        }
        *acc_j = a;
    }
    tree(acc) * x_scale + bias
}
