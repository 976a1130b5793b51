//! [`TernaryWeights`]: trits {−1, 0, +1} in one or two planes, packed 2 bits or base 3, with an
//! f32 scale per plane, row and group of K.

use super::quant::{absmean_ternary, absmean_ternary_groups};
use crate::error::elems;
use crate::formats::ternary::trit;
use crate::KernelError;

/// K positions per unit: the kernels form one exact integer sum per unit (module docs).
pub const UNIT: usize = 128;
/// Independent f32 partial sums per output; unit `u` goes to partial `u % PARTIALS`.
pub const PARTIALS: usize = 8;
/// K positions per base-3 block (TQ1_0's block).
pub const BASE3_BLOCK: usize = 256;
/// Bytes per base-3 block: TQ1_0's `qs[48]` and `qh[4]`, without its scale.
pub const BASE3_BYTES: usize = 52;
/// The largest K: unit sums of a whole row stay inside i32 (`|Σ| ≤ 128·K`).
pub const MAX_K: usize = 1 << 23;

/// How the trits of a row are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TritPacking {
    /// 2 bits per trit, code `t + 1 ∈ {0, 1, 2}`; per unit of 128 positions 32 bytes, position
    /// `32j + l` in bits `2j` of byte `l` (TQ2_0's order; bitnet.cpp's I2_S reverses the pairs).
    Bits2,
    /// Base 3, TQ1_0's bytes without its scale: per 256 positions `qs[48]` (5 trits a byte,
    /// positions `32p + l` in byte `l < 32`, `160 + 16p + l` in byte `32 + l`) and `qh[4]`
    /// (4 trits, position `240 + 4p + l` in byte `l`); trit `p` of byte `b` is
    /// `((b·3^p) mod 256)·3 >> 8`. A row holds every block's `qs`, then every block's `qh`,
    /// padded to 16 bytes, so that `qs` loads in 16-byte pieces. Only the bytes the encoder makes
    /// are accepted.
    Base3,
}

impl TritPacking {
    /// Lower-case name (`bits2`, `base3`).
    pub fn name(self) -> &'static str {
        match self {
            TritPacking::Bits2 => "bits2",
            TritPacking::Base3 => "base3",
        }
    }

    /// K rounded up to this packing's row granule (128 or 256 positions).
    pub fn padded_k(self, k: usize) -> usize {
        match self {
            TritPacking::Bits2 => k.next_multiple_of(UNIT),
            TritPacking::Base3 => k.next_multiple_of(BASE3_BLOCK),
        }
    }

    /// Bytes of one plane's row of `kp` (padded) positions.
    pub fn row_bytes(self, kp: usize) -> usize {
        match self {
            TritPacking::Bits2 => kp / 4,
            TritPacking::Base3 => (kp / BASE3_BLOCK * BASE3_BYTES).next_multiple_of(16),
        }
    }
}

/// Where byte `l` (0..52, TQ1_0's order: `qs` then `qh`) of base-3 block `blk` lies in a row of
/// `nb` blocks.
pub fn base3_offset(nb: usize, blk: usize, l: usize) -> usize {
    if l < 48 {
        48 * blk + l
    } else {
        48 * nb + 4 * blk + (l - 48)
    }
}

/// Ternary weights `[N, K]`: `W = Σ_p s[p, n, g(k)]·T_p[n, k]` over one plane (BitNet, Tequila,
/// TQ1_0, TQ2_0, I2_S) or two (PTQTP's trit-planes).
#[derive(Clone, Debug, PartialEq)]
pub struct TernaryWeights {
    packing: TritPacking,
    planes: usize,
    n: usize,
    k: usize,
    kp: usize,
    group: usize,
    codes: Vec<u8>,
    scales: Vec<f32>,
    /// The scale group of each unit.
    unit_groups: Vec<u32>,
}

fn err(s: String) -> KernelError {
    KernelError::Shape(s)
}

/// The byte the base-3 encoder makes for `digits` (most significant first): the value as a
/// fixed-point fraction of 243, rounded up (`gguf-py`'s TQ1_0 packing).
fn base3_byte(digits: impl Iterator<Item = u8>) -> u8 {
    let v: u16 = digits
        .zip([81u16, 27, 9, 3, 1])
        .map(|(d, w)| u16::from(d) * w)
        .sum();
    (v * 256).div_ceil(243) as u8
}

impl TernaryWeights {
    /// From trits `[planes, n, k]` (each −1, 0 or +1) and scales `[planes, n, k/group]`
    /// (`group = k`: one per row; otherwise a multiple of 128 dividing k).
    pub fn from_trits(
        packing: TritPacking,
        (planes, n, k, group): (usize, usize, usize, usize),
        trits: &[i8],
        scales: &[f32],
    ) -> Result<Self, KernelError> {
        if !(1..=2).contains(&planes) || n == 0 || k == 0 || k > MAX_K {
            return Err(err(format!(
                "ternary weights: {planes} planes of [{n}, {k}] (1 or 2 planes, 1 ≤ K ≤ {MAX_K})"
            )));
        }
        elems("ternary weights", &[planes, n, k])?;
        if group != k && (group == 0 || !group.is_multiple_of(UNIT) || !k.is_multiple_of(group)) {
            return Err(err(format!(
                "ternary weights: a scale group of {group} for K = {k} (K itself, or a multiple of {UNIT} dividing K)"
            )));
        }
        let groups = k / group;
        if trits.len() != planes * n * k || scales.len() != planes * n * groups {
            return Err(err(format!(
                "ternary weights: {} trits and {} scales for {planes} planes of [{n}, {k}] in groups of {group} (want {} and {})",
                trits.len(),
                scales.len(),
                planes * n * k,
                planes * n * groups
            )));
        }
        if let Some(i) = trits.iter().position(|t| !(-1..=1).contains(t)) {
            return Err(err(format!(
                "ternary weights: trit {} at plane {}, row {}, column {} is not −1, 0 or +1",
                trits[i],
                i / (n * k),
                i / k % n,
                i % k
            )));
        }
        if let Some(i) = scales.iter().position(|s| !s.is_finite()) {
            return Err(err(format!(
                "ternary weights: scale {i} is {}, not finite",
                scales[i]
            )));
        }
        let kp = packing.padded_k(k);
        let rb = packing.row_bytes(kp);
        let mut codes = vec![0u8; planes * n * rb];
        for (row, dst) in trits.chunks(k).zip(codes.chunks_mut(rb)) {
            // Padding positions hold trit 0 (code 1).
            let code = |c: usize| row.get(c).map_or(1, |&t| (t + 1) as u8);
            match packing {
                TritPacking::Bits2 => {
                    for (u, bytes) in dst.chunks_mut(32).enumerate() {
                        for (l, b) in bytes.iter_mut().enumerate() {
                            *b = (0..4).fold(0, |a, j| a | code(UNIT * u + 32 * j + l) << (2 * j));
                        }
                    }
                }
                TritPacking::Base3 => {
                    let nb = kp / BASE3_BLOCK;
                    for blk in 0..nb {
                        let c0 = blk * BASE3_BLOCK;
                        // (first byte, bytes, first position, trits per byte)
                        for (b0, len, p0, digits) in
                            [(0, 32, 0, 5), (32, 16, 160, 5), (48, 4, 240, 4)]
                        {
                            for l in 0..len {
                                dst[base3_offset(nb, blk, b0 + l)] =
                                    base3_byte((0..digits).map(|p| code(c0 + p0 + len * p + l)));
                            }
                        }
                    }
                }
            }
        }
        Ok(TernaryWeights {
            packing,
            planes,
            n,
            k,
            kp,
            group,
            codes,
            scales: scales.to_vec(),
            unit_groups: Vec::new(),
        }
        .with_unit_groups())
    }

    /// BitNet b1.58 per tensor ([`absmean_ternary`]): one plane, the tensor's γ on every row.
    pub fn absmean(
        packing: TritPacking,
        w: &[f32],
        n: usize,
        k: usize,
    ) -> Result<Self, KernelError> {
        if w.len() != elems("ternary weights", &[n, k])? {
            return Err(err(format!(
                "ternary weights: {} values for [{n}, {k}]",
                w.len()
            )));
        }
        let (t, gamma) = absmean_ternary(w);
        Self::from_trits(packing, (1, n, k, k), &t, &vec![gamma; n])
    }

    /// Tequila per group of `group` along K ([`absmean_ternary_groups`]).
    pub fn absmean_groups(
        packing: TritPacking,
        w: &[f32],
        (n, k, group): (usize, usize, usize),
    ) -> Result<Self, KernelError> {
        let (t, s) = absmean_ternary_groups(w, n, k, group)?;
        Self::from_trits(packing, (1, n, k, group), &t, &s)
    }

    /// PTQTP trit-planes: `W = diag(α1)·T1 + diag(α2)·T2`, trits `[n, k]` each, α per row.
    pub fn trit_planes(
        packing: TritPacking,
        (n, k): (usize, usize),
        (t1, a1): (&[i8], &[f32]),
        (t2, a2): (&[i8], &[f32]),
    ) -> Result<Self, KernelError> {
        if t1.len() != t2.len() || a1.len() != a2.len() {
            return Err(err(format!(
                "trit-planes: planes of {} and {} trits, {} and {} scales do not match",
                t1.len(),
                t2.len(),
                a1.len(),
                a2.len()
            )));
        }
        Self::from_trits(
            packing,
            (2, n, k, k),
            &[t1, t2].concat(),
            &[a1, a2].concat(),
        )
    }

    /// GGUF TQ2_0 rows (`k` a multiple of 256, 66 bytes a block), kept as they are: the codes
    /// and each block's `d` as a scale per group of 256. Code 3 (TQ2_0 decodes it as +2) is not
    /// a trit and is an `Err`.
    pub fn from_tq2_0(blocks: &[u8], n: usize, k: usize) -> Result<Self, KernelError> {
        let nb = Self::gguf_blocks("TQ2_0", blocks.len(), 66, n, k)?;
        let mut codes = Vec::with_capacity(n * k / 4);
        let mut scales = Vec::with_capacity(n * nb);
        for (i, b) in blocks.chunks(66).enumerate() {
            if let Some(l) = b[..64]
                .iter()
                .position(|&q| (0..4).any(|j| (q >> (2 * j)) & 3 == 3))
            {
                return Err(err(format!(
                    "TQ2_0 row {}, block {}: byte {l} holds code 3 (+2), not a trit",
                    i / nb,
                    i % nb
                )));
            }
            codes.extend_from_slice(&b[..64]);
            scales.push(crate::formats::plain::f16_at(b, 64));
        }
        Self::from_packed(
            TritPacking::Bits2,
            (n, k, BASE3_BLOCK.min(k)),
            codes,
            scales,
        )
    }

    /// GGUF TQ1_0 rows (`k` a multiple of 256, 54 bytes a block), kept base 3: the 52 trit bytes
    /// (regrouped as [`TritPacking::Base3`] lays a row out) and each block's `d` as a scale per
    /// group of 256. A byte the encoder cannot make (one of
    /// the 13 that are not `⌈q·256/243⌉`, or a `qh` byte with a fifth trit) is an `Err`.
    pub fn from_tq1_0(blocks: &[u8], n: usize, k: usize) -> Result<Self, KernelError> {
        let nb = Self::gguf_blocks("TQ1_0", blocks.len(), 54, n, k)?;
        let rb = TritPacking::Base3.row_bytes(k);
        let mut codes = vec![0u8; n * rb];
        let mut scales = Vec::with_capacity(n * nb);
        for (i, b) in blocks.chunks(54).enumerate() {
            for (l, &byte) in b[..BASE3_BYTES].iter().enumerate() {
                let digits = if l < 48 { 5 } else { 4 };
                let canonical = base3_byte((0..digits).map(|p| trit(byte, p)));
                if canonical != byte {
                    return Err(err(format!(
                        "TQ1_0 row {}, block {}: byte {l} = {byte} is not a base-3 trit byte",
                        i / nb,
                        i % nb
                    )));
                }
            }
            let row = &mut codes[i / nb * rb..][..rb];
            for (l, &byte) in b[..BASE3_BYTES].iter().enumerate() {
                row[base3_offset(nb, i % nb, l)] = byte;
            }
            scales.push(crate::formats::plain::f16_at(b, 52));
        }
        Self::from_packed(
            TritPacking::Base3,
            (n, k, BASE3_BLOCK.min(k)),
            codes,
            scales,
        )
    }

    /// bitnet.cpp's x86 I2_S (`k` a multiple of 128): `n·k/4` bytes, byte `p` of each 128-block
    /// holding positions `p, p+32, p+64, p+96` in bits 7:6, 5:4, 3:2, 1:0 (code `t + 1`), and
    /// the tensor's scale (stored after the bytes in the file). Code 3 is an `Err`.
    pub fn from_i2_s(bytes: &[u8], scale: f32, n: usize, k: usize) -> Result<Self, KernelError> {
        if k == 0 || !k.is_multiple_of(UNIT) || bytes.len() != elems("I2_S", &[n, k])? / 4 {
            return Err(err(format!(
                "I2_S: {} bytes for [{n}, {k}] (K a multiple of {UNIT}, N·K/4 bytes)",
                bytes.len()
            )));
        }
        let mut codes = Vec::with_capacity(bytes.len());
        for (i, &b) in bytes.iter().enumerate() {
            let mut out = 0u8;
            for j in 0..4 {
                let q = (b >> (6 - 2 * j)) & 3;
                if q == 3 {
                    return Err(err(format!("I2_S byte {i} holds code 3, not a trit")));
                }
                out |= q << (2 * j);
            }
            codes.push(out);
        }
        Self::from_packed(TritPacking::Bits2, (n, k, k), codes, vec![scale; n])
    }

    fn gguf_blocks(
        what: &str,
        len: usize,
        bytes: usize,
        n: usize,
        k: usize,
    ) -> Result<usize, KernelError> {
        if !k.is_multiple_of(BASE3_BLOCK) || len != elems(what, &[n, k])? / BASE3_BLOCK * bytes {
            return Err(err(format!(
                "{what}: {len} bytes for [{n}, {k}] (K a multiple of 256, {bytes} bytes a block)"
            )));
        }
        Ok(k / BASE3_BLOCK)
    }

    fn from_packed(
        packing: TritPacking,
        (n, k, group): (usize, usize, usize),
        codes: Vec<u8>,
        scales: Vec<f32>,
    ) -> Result<Self, KernelError> {
        if n == 0 || k > MAX_K {
            return Err(err(format!(
                "ternary weights: [{n}, {k}] (N ≥ 1, K ≤ {MAX_K})"
            )));
        }
        if let Some(i) = scales.iter().position(|s| !s.is_finite()) {
            return Err(err(format!(
                "ternary weights: scale {i} is {}, not finite",
                scales[i]
            )));
        }
        Ok(TernaryWeights {
            packing,
            planes: 1,
            n,
            k,
            kp: packing.padded_k(k),
            group,
            codes,
            scales,
            unit_groups: Vec::new(),
        }
        .with_unit_groups())
    }

    fn with_unit_groups(mut self) -> Self {
        self.unit_groups = (0..self.units())
            .map(|u| self.unit_group(u) as u32)
            .collect();
        self
    }

    /// The same trits and scales in another packing.
    pub fn repacked(&self, packing: TritPacking) -> Self {
        Self::from_trits(
            packing,
            (self.planes, self.n, self.k, self.group),
            &self.trits(),
            &self.scales,
        )
        .expect("valid weights repack")
    }

    /// How the trits are stored.
    pub fn packing(&self) -> TritPacking {
        self.packing
    }

    /// Trit planes (1, or 2 for trit-planes).
    pub fn planes(&self) -> usize {
        self.planes
    }

    /// Rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns.
    pub fn k(&self) -> usize {
        self.k
    }

    /// K rounded up to the packing's granule; positions from `k` on hold trit 0.
    pub fn padded_k(&self) -> usize {
        self.kp
    }

    /// Units (of 128 positions) per row.
    pub fn units(&self) -> usize {
        self.kp / UNIT
    }

    /// Positions per scale group (`k`: one scale per row).
    pub fn group(&self) -> usize {
        self.group
    }

    /// Scale groups per row.
    pub fn groups(&self) -> usize {
        self.k / self.group
    }

    /// The scale group of unit `u` (with one group per row, 0; otherwise groups are whole units).
    pub fn unit_group(&self, u: usize) -> usize {
        if self.groups() == 1 {
            0
        } else {
            u * UNIT / self.group
        }
    }

    /// The scale group of every unit ([`Self::unit_group`]).
    pub fn unit_groups(&self) -> &[u32] {
        &self.unit_groups
    }

    /// Bytes of one plane's row.
    pub fn row_bytes(&self) -> usize {
        self.packing.row_bytes(self.kp)
    }

    /// Packed trits `[planes, n, row_bytes]`.
    pub fn codes(&self) -> &[u8] {
        &self.codes
    }

    /// Scales `[planes, n, groups]`.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Scale of plane `p`, row `r`, group `g`.
    pub fn scale(&self, p: usize, r: usize, g: usize) -> f32 {
        self.scales[(p * self.n + r) * self.groups() + g]
    }

    /// The packed bytes of plane `p`, row `r`.
    pub fn row(&self, p: usize, r: usize) -> &[u8] {
        let rb = self.row_bytes();
        &self.codes[(p * self.n + r) * rb..][..rb]
    }

    /// Trit at plane `p`, row `r`, column `c < padded_k`.
    pub fn trit(&self, p: usize, r: usize, c: usize) -> i8 {
        let row = self.row(p, r);
        let code = match self.packing {
            TritPacking::Bits2 => {
                let (u, e) = (c / UNIT, c % UNIT);
                (row[32 * u + e % 32] >> (2 * (e / 32))) & 3
            }
            TritPacking::Base3 => {
                let (blk, e) = (c / BASE3_BLOCK, c % BASE3_BLOCK);
                let (byte, p) = match e {
                    0..160 => (e % 32, e / 32),
                    160..240 => (32 + (e - 160) % 16, (e - 160) / 16),
                    _ => (48 + (e - 240) % 4, (e - 240) / 4),
                };
                let nb = self.kp / BASE3_BLOCK;
                trit(row[base3_offset(nb, blk, byte)], p as u32)
            }
        };
        code as i8 - 1
    }

    /// Every trit, `[planes, n, k]`.
    pub fn trits(&self) -> Vec<i8> {
        let mut out = Vec::with_capacity(self.planes * self.n * self.k);
        for p in 0..self.planes {
            for r in 0..self.n {
                out.extend((0..self.k).map(|c| self.trit(p, r, c)));
            }
        }
        out
    }

    /// The weights as f32 `[n, k]` (planes summed in order).
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.n * self.k];
        for p in 0..self.planes {
            for r in 0..self.n {
                for c in 0..self.k {
                    let v = self.scale(p, r, c / self.group) * f32::from(self.trit(p, r, c));
                    out[r * self.k + c] += v;
                }
            }
        }
        out
    }
}
