//! Activation tables: for each group of four activations `x[4j..4j+4]` the 16 signed sums
//! `T[idx] = Σ_t (bit_t(idx) ? x_t : −x_t)`, summed in the order `((±x0 ± x1) ± x2) ± x3`.
//! Only the 8 with bit 3 clear are computed; `T[15 − idx] = −T[idx]` (complementing every bit
//! flips every sign) gives the rest exactly.
//!
//! The int8 tables divide each span's entries by its scale `ls = max_j Σ_t |x_{4j+t}| / 127`
//! (the largest entry of the span becomes ±127) and round half to even; a span of zeros has
//! `ls = 0` and zero entries.

/// Entries per table.
pub const ENTRIES: usize = 16;

/// Table `j` of one token: the 16 signed sums of `x4` (`x4.len() ≤ 4`, missing ones 0).
#[inline(always)]
pub fn table_f32(x4: &[f32]) -> [f32; ENTRIES] {
    let at = |t: usize| x4.get(t).copied().unwrap_or(0.0);
    let (x0, x1, x2, x3) = (at(0), at(1), at(2), at(3));
    let mut t = [0f32; ENTRIES];
    for idx in 0..8 {
        let sign = |b: usize, v: f32| if idx >> b & 1 == 1 { v } else { -v };
        let v = ((sign(0, x0) + sign(1, x1)) + sign(2, x2)) - x3;
        t[idx] = v;
        t[15 - idx] = -v;
    }
    t
}

/// One token's f32 tables, `[⌈K/4⌉][16]`.
pub fn tables_f32(x: &[f32], out: &mut [f32]) {
    for (x4, t) in x.chunks(4).zip(out.chunks_exact_mut(ENTRIES)) {
        t.copy_from_slice(&table_f32(x4));
    }
}

/// The int8 table scale of the positions `x` (one span): `max Σ|x_4| / 127`.
pub fn span_scale(x: &[f32]) -> f32 {
    let m = x
        .chunks(4)
        .map(|x4| x4.iter().fold(0f32, |a, v| a + v.abs()))
        .fold(0f32, f32::max);
    m / 127.0
}

/// `v` rounded half to even, for `|v| < 2^22`: adding and taking away `1.5·2^23` leaves no
/// fraction bits (the same value as `round_ties_even`, which without SSE4.1 in the build's
/// baseline is a call to `rintf` per entry).
#[inline(always)]
fn round_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC) - MAGIC
}

/// One token's int8 tables `[⌈K/4⌉][16]` and scales per `span` positions (`[⌈K/span⌉]`).
pub(crate) fn tables_i8(x: &[f32], span: usize, out: &mut [i8], scales: &mut [f32]) {
    for ((xs, ts), ls) in x
        .chunks(span)
        .zip(out.chunks_mut(span / 4 * ENTRIES))
        .zip(scales.iter_mut())
    {
        *ls = span_scale(xs);
        let inv = if *ls > 0.0 { 1.0 / *ls } else { 0.0 };
        for (x4, t) in xs.chunks(4).zip(ts.chunks_exact_mut(ENTRIES)) {
            for (q, v) in t.iter_mut().zip(table_f32(x4)) {
                *q = round_even(v * inv).clamp(-127.0, 127.0) as i8;
            }
        }
    }
}

/// Sums of x per `group` positions (f32, in order): the zero-point term's `Σx`.
pub(crate) fn group_sums(x: &[f32], group: usize, out: &mut [f32]) {
    for (xs, s) in x.chunks(group).zip(out.iter_mut()) {
        *s = xs.iter().fold(0f32, |a, &v| a + v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_signed_sums_and_mirror() {
        let x = [1.5f32, -2.25, 4.0, 0.125];
        let t = table_f32(&x);
        for (idx, &v) in t.iter().enumerate() {
            let want: f32 = (0..4)
                .map(|b| if idx >> b & 1 == 1 { x[b] } else { -x[b] })
                .sum();
            assert_eq!(v, want, "idx {idx}");
            assert_eq!(t[15 - idx], -v);
        }
    }

    #[test]
    fn int8_tables_reach_127_and_round() {
        // Span scale 8/127: entries ±8 → ±127; the 1.0·127/8 = 15.875 entry rounds to 16.
        let x = [2.0f32, 2.0, 2.0, 2.0, 0.5, 0.25, 0.125, 0.125];
        let (mut q, mut s) = (vec![0i8; 32], vec![0f32; 1]);
        tables_i8(&x, 8, &mut q, &mut s);
        assert_eq!(s[0], 8.0 / 127.0);
        assert_eq!((q[15], q[0]), (127, -127));
        assert_eq!(q[16 + 15], 16);
        let (mut z, mut zs) = (vec![1i8; 16], vec![1f32; 1]);
        tables_i8(&[0.0; 4], 4, &mut z, &mut zs);
        assert!(z.iter().all(|&v| v == 0) && zs[0] == 0.0);
    }
}
