//! [`LutWeights`]: b-bit weight codes stored as b bit planes of 4-bit indices, with a scale
//! and a zero point per row and group of K.
//!
//! A weight is `w = s·(u − z)`: `u ∈ [0, 2^b)` its code, `s` and `z` (f32) those of its row
//! and group. Code `u`'s bit `i` belongs to plane `i`; in a plane, the bits of four
//! consecutive K positions `4j..4j+4` form one 4-bit index (bit `t` ↔ position `4j + t`).
//!
//! Byte order (what the kernels read): rows in tiles of [`TILE_ROWS`]; per tile, per *pair*
//! `p` of index groups (K positions `8p..8p+8`), per plane `i`, 32 bytes — byte `r` holds
//! row `32·tile + r`'s index of group `2p` in its low nibble and of group `2p + 1` in its high
//! nibble. So 32 consecutive bytes are one 256-bit vector of 32 rows that look up the same two
//! tables (`vpshufb` per 128-bit lane), and a tile's bytes are one contiguous stream. Rows past
//! `n` and groups past `K/4` are zero indices. Scales and zero points are stored per tile,
//! per K group, 32 rows (padding rows: 0), so a kernel loads a row vector of them.

use crate::KernelError;

/// Rows per tile of the plane layout.
pub const TILE_ROWS: usize = 32;

/// The largest K span whose int16 sums cannot overflow: `(2^b − 1)·127·(span/4) ≤ 32767` —
/// 128 positions up to 3 bits (`7·127·32 = 28448`), 64 at 4 (`15·127·16 = 30480`).
fn max_span(bits: u32) -> usize {
    if bits <= 3 {
        128
    } else {
        64
    }
}

/// b-bit weights `[N, K]` in the bit-plane layout (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct LutWeights {
    bits: u32,
    n: usize,
    k: usize,
    group: usize,
    planes: Vec<u8>,
    scales: Vec<f32>,
    zeros: Vec<f32>,
}

fn err(s: String) -> KernelError {
    KernelError::Shape(s)
}

/// Checks bits, shape and group: bits 1–4, `K ≥ 4` a multiple of 4, the group a multiple of 16
/// dividing K, or K itself (one scale per row).
pub fn check_shape(bits: u32, n: usize, k: usize, group: usize) -> Result<(), KernelError> {
    if !(1..=4).contains(&bits) {
        return Err(err(format!("LUT weights take 1–4 bits, got {bits}")));
    }
    if n == 0 || k == 0 || !k.is_multiple_of(4) {
        return Err(err(format!(
            "LUT weights need N ≥ 1 and K a positive multiple of 4, got N = {n}, K = {k}"
        )));
    }
    crate::error::elems("LUT weights", &[n, k])?;
    if group != k && (group == 0 || !group.is_multiple_of(16) || !k.is_multiple_of(group)) {
        return Err(err(format!(
            "group size {group} must be a multiple of 16 dividing K = {k}, or K itself"
        )));
    }
    Ok(())
}

impl LutWeights {
    /// From codes `u` (`[n, k]`, one per byte, each `< 2^bits`), scales `[n, k/group]` and zero
    /// points `[n, k/group]` (`None`: `2^(bits−1)`, the symmetric signed range
    /// `[−2^(b−1), 2^(b−1))`). `group = k` is one scale per row.
    pub fn from_codes(
        bits: u32,
        n: usize,
        k: usize,
        group: usize,
        codes: &[u8],
        scales: &[f32],
        zeros: Option<&[f32]>,
    ) -> Result<Self, KernelError> {
        check_shape(bits, n, k, group)?;
        let groups = k / group;
        if codes.len() != n * k {
            return Err(err(format!("codes: {} values for [{n}, {k}]", codes.len())));
        }
        if let Some(at) = codes.iter().position(|&u| u32::from(u) >> bits != 0) {
            return Err(err(format!(
                "code {} at row {}, column {} does not fit in {bits} bits",
                codes[at],
                at / k,
                at % k
            )));
        }
        let mid = (1u32 << (bits - 1)) as f32;
        let z_default = vec![mid; n * groups];
        let zeros = zeros.unwrap_or(&z_default);
        for (what, v) in [("scales", scales), ("zeros", zeros)] {
            if v.len() != n * groups {
                return Err(err(format!(
                    "{what}: {} values for {n} rows × {groups} groups",
                    v.len()
                )));
            }
            if let Some(at) = v.iter().position(|s| !s.is_finite()) {
                return Err(err(format!(
                    "{what}: {} at row {}, group {} is not finite",
                    v[at],
                    at / groups,
                    at % groups
                )));
            }
        }
        let tiles = n.div_ceil(TILE_ROWS);
        let pairs = k.div_ceil(8);
        let mut planes = vec![0u8; tiles * pairs * bits as usize * TILE_ROWS];
        for row in 0..n {
            let (tile, r) = (row / TILE_ROWS, row % TILE_ROWS);
            for (col, &u) in codes[row * k..(row + 1) * k].iter().enumerate() {
                let (p, nib, t) = (col / 8, (col / 4) % 2, col % 4);
                for i in 0..bits as usize {
                    let bit = (u >> i) & 1;
                    let at = ((tile * pairs + p) * bits as usize + i) * TILE_ROWS + r;
                    planes[at] |= bit << (4 * nib + t);
                }
            }
        }
        let per_tile = |v: &[f32]| {
            let mut out = vec![0f32; tiles * groups * TILE_ROWS];
            for row in 0..n {
                for g in 0..groups {
                    let (tile, r) = (row / TILE_ROWS, row % TILE_ROWS);
                    out[(tile * groups + g) * TILE_ROWS + r] = v[row * groups + g];
                }
            }
            out
        };
        Ok(LutWeights {
            bits,
            n,
            k,
            group,
            planes,
            scales: per_tile(scales),
            zeros: per_tile(zeros),
        })
    }

    /// Quantises f32 weights `[n, k]` to `bits` with a scale and zero point per group (round to
    /// nearest, min–max range, as GPTQ's and AWQ's RTN baselines do): for benches and tests.
    pub fn quantize(
        bits: u32,
        n: usize,
        k: usize,
        group: usize,
        w: &[f32],
    ) -> Result<Self, KernelError> {
        check_shape(bits, n, k, group)?;
        if w.len() != n * k {
            return Err(err(format!("weights: {} values for [{n}, {k}]", w.len())));
        }
        let top = ((1u32 << bits) - 1) as f32;
        let groups = k / group;
        let (mut codes, mut scales, mut zeros) = (
            vec![0u8; n * k],
            vec![0f32; n * groups],
            vec![0f32; n * groups],
        );
        for (gi, (src, dst)) in w.chunks(group).zip(codes.chunks_mut(group)).enumerate() {
            let lo = src.iter().fold(0f32, |a, &v| a.min(v));
            let hi = src.iter().fold(0f32, |a, &v| a.max(v));
            let s = if hi > lo { (hi - lo) / top } else { 1.0 };
            let z = (-lo / s).round().clamp(0.0, top);
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = (v / s + z).round().clamp(0.0, top) as u8;
            }
            scales[gi] = s;
            zeros[gi] = z;
        }
        Self::from_codes(bits, n, k, group, &codes, &scales, Some(&zeros))
    }

    /// Bits per weight (planes).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Rows (output features).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns (input features).
    pub fn k(&self) -> usize {
        self.k
    }

    /// K positions per scale (K itself for one scale per row).
    pub fn group(&self) -> usize {
        self.group
    }

    /// Groups per row.
    pub fn groups(&self) -> usize {
        self.k / self.group
    }

    /// Row tiles of [`TILE_ROWS`].
    pub fn tiles(&self) -> usize {
        self.n.div_ceil(TILE_ROWS)
    }

    /// Pairs of 4-position index groups per row (`⌈K/8⌉`).
    pub fn pairs(&self) -> usize {
        self.k.div_ceil(8)
    }

    /// The K span whose table scale (int8 tables) and int16 sums the kernels share: the
    /// largest of 128 (up to 3 bits: fewer flushes of the int16 sums), 64, 32, 16 dividing
    /// the group, else the largest (one scale per row with K not a multiple of 16; the last
    /// span is shorter). Spans never straddle groups.
    pub fn span(&self) -> usize {
        let top = max_span(self.bits);
        [128, 64, 32, 16]
            .into_iter()
            .filter(|&s| s <= top)
            .find(|&s| self.group.is_multiple_of(s))
            .unwrap_or(top)
    }

    /// The plane bytes (layout in the module docs).
    pub fn planes(&self) -> &[u8] {
        &self.planes
    }

    /// Scales `[tile][group][32]`.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Zero points `[tile][group][32]`.
    pub fn zeros(&self) -> &[f32] {
        &self.zeros
    }

    /// Bytes of one tile's plane stream.
    pub fn tile_bytes(&self) -> usize {
        self.pairs() * self.bits as usize * TILE_ROWS
    }

    /// Tile `tile`'s plane stream (`[pair][plane][32]` bytes).
    pub fn tile_planes(&self, tile: usize) -> &[u8] {
        &self.planes[tile * self.tile_bytes()..][..self.tile_bytes()]
    }

    /// Tile `tile`'s scales and zero points, `[group][32]` each.
    pub fn tile_scales(&self, tile: usize) -> (&[f32], &[f32]) {
        let len = self.groups() * TILE_ROWS;
        (
            &self.scales[tile * len..][..len],
            &self.zeros[tile * len..][..len],
        )
    }

    /// The code of row `row`, column `col`.
    pub fn code(&self, row: usize, col: usize) -> u8 {
        let (tile, r) = (row / TILE_ROWS, row % TILE_ROWS);
        let (p, shift) = (col / 8, 4 * ((col / 4) % 2) + col % 4);
        (0..self.bits as usize).fold(0u8, |u, i| {
            let at = ((tile * self.pairs() + p) * self.bits as usize + i) * TILE_ROWS + r;
            u | (((self.planes[at] >> shift) & 1) << i)
        })
    }

    /// `(s, z)` of row `row`, group `g`.
    pub fn scale_zero(&self, row: usize, g: usize) -> (f32, f32) {
        let at = ((row / TILE_ROWS) * self.groups() + g) * TILE_ROWS + row % TILE_ROWS;
        (self.scales[at], self.zeros[at])
    }

    /// Every weight `s·(u − z)` in f32 (`u − z` first, then one rounding by `s`), `[n, k]`:
    /// the reference the kernels are checked against (never used by them).
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.n * self.k];
        for (row, o) in out.chunks_mut(self.k).enumerate() {
            for (col, v) in o.iter_mut().enumerate() {
                let (s, z) = self.scale_zero(row, col / self.group);
                *v = s * (f32::from(self.code(row, col)) - z);
            }
        }
        out
    }
}
