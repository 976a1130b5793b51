//! Binary-coded weights with query-and-add (ShiftAddLLM / LUT-GEMM BCQ;
//! `shared/design/reference/shiftadd_ternary_fp.md` §1): `W = Σ_b α_b ⊙ B_b` over `q` sign
//! planes `B_b ∈ {−1, +1}^{N×K}` (1 ≤ q ≤ 4), each α a sum of up to 3 signed powers of two
//! (APoT) per block of `block_k` columns × `block_n` rows.
//!
//! Planes are bit-packed, 32 K positions a u32, LSB first (`bit = 1` is +1), `[N, q, K/32]`
//! (K padded to 32 with +1 bits whose x is 0). Scales are `[K/block_k, q, N/block_n, terms]`
//! APoT terms, each `±2^p` (or absent), `−126 ≤ p ≤ 127`.
//!
//! The kernel never multiplies by a weight: per token, every chunk of 8 activations becomes a
//! 256-entry table `T_c[i] = Σ_j (2·bit_j(i) − 1)·x[8c + j]` (built by adds, `T[i] = T[i − 2^s] +
//! 2·x_s` from `T[0] = −Σx`); each plane's byte of a row's bits looks its value up, and each
//! scale term applies as an exponent add (`ldexp`, here an f32 multiply by an exact power of
//! two: exact unless the result leaves the normal range) and a signed add.
//! `y[n] = Σ_c Σ_b Σ_t ±ldexp(T_c[idx_b(n, c)], p_t) (+ bias)`, in f32, within
//! [`error_bound`] of the exact product.

use rayon::prelude::*;

use crate::KernelError;

/// The most APoT terms per scale.
pub const MAX_TERMS: usize = 3;

/// One APoT term: `±2^exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApotTerm {
    /// The term is `−2^exp`.
    pub negative: bool,
    /// The exponent, −126 ..= 127.
    pub exp: i8,
}

impl ApotTerm {
    /// `±2^exp` as f32 (exact).
    pub fn value(self) -> f32 {
        let v = f32::from_bits(((i32::from(self.exp) + 127) as u32) << 23);
        if self.negative {
            -v
        } else {
            v
        }
    }

    /// A scale's terms (at most 3) packed in a u32 for the GPU, 10 bits a term from bit 0:
    /// bits 0–7 the exponent (two's complement), bit 8 the sign, bit 9 present.
    pub fn packed(terms: &[Option<Self>]) -> u32 {
        terms.iter().enumerate().fold(0, |a, (i, term)| {
            a | term.map_or(0, |t| {
                (u32::from(t.exp as u8) | (u32::from(t.negative) << 8) | (1 << 9)) << (10 * i)
            })
        })
    }
}

/// BCQ weights `[N, K]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BcqWeights {
    planes: usize,
    n: usize,
    k: usize,
    block_k: usize,
    block_n: usize,
    terms: usize,
    bits: Vec<u32>,
    scales: Vec<Option<ApotTerm>>,
}

fn err(s: String) -> KernelError {
    KernelError::Shape(s)
}

/// `x` as a sum of `terms` signed powers of two, greedily over the residual
/// (`p = round(log2|r|)`), exponents clamped to the format's range.
pub fn apot(x: f32, terms: usize) -> Vec<Option<ApotTerm>> {
    let mut r = f64::from(x);
    (0..terms)
        .map(|_| {
            if r == 0.0 || !r.is_finite() {
                return None;
            }
            let p = r.abs().log2().round().clamp(-126.0, 127.0) as i8;
            let t = ApotTerm {
                negative: r < 0.0,
                exp: p,
            };
            r -= f64::from(t.value());
            Some(t)
        })
        .collect()
}

/// Plane count, shape, scale blocks and terms: 1–4 planes of `[n, k]` (n·k·planes·terms
/// bounded, so no length derived from them wraps), blocks of K or a multiple of 8 dividing K
/// columns and of rows dividing N, 1–`MAX_TERMS` terms.
fn check_layout(
    (planes, n, k): (usize, usize, usize),
    (block_k, block_n, terms): (usize, usize, usize),
) -> Result<(), KernelError> {
    if !(1..=4).contains(&planes) || n == 0 || k == 0 || !(1..=MAX_TERMS).contains(&terms) {
        return Err(err(format!(
            "BCQ weights: {planes} planes of [{n}, {k}], {terms} scale terms (1–4 planes, 1–{MAX_TERMS} terms)"
        )));
    }
    crate::error::elems("BCQ weights", &[n, k, planes, terms])?;
    if (block_k != k && (block_k == 0 || !block_k.is_multiple_of(8) || !k.is_multiple_of(block_k)))
        || block_n == 0
        || !n.is_multiple_of(block_n)
    {
        return Err(err(format!(
            "BCQ weights: scale blocks of {block_k} columns × {block_n} rows for [{n}, {k}] (columns: K or a multiple of 8 dividing K; rows dividing N)"
        )));
    }
    Ok(())
}

impl BcqWeights {
    /// From sign planes `signs[n][b][k]` (+1 or −1) and APoT scales
    /// `[k/block_k][b][n/block_n][terms]` (`block_k`: a multiple of 8 dividing K, or K;
    /// `block_n` dividing N).
    pub fn from_planes(
        (planes, n, k): (usize, usize, usize),
        (block_k, block_n, terms): (usize, usize, usize),
        signs: &[i8],
        scales: &[Option<ApotTerm>],
    ) -> Result<Self, KernelError> {
        check_layout((planes, n, k), (block_k, block_n, terms))?;
        let want = (k / block_k) * planes * (n / block_n) * terms;
        if signs.len() != n * planes * k || scales.len() != want {
            return Err(err(format!(
                "BCQ weights: {} signs and {} scale terms, want {} and {want}",
                signs.len(),
                scales.len(),
                n * planes * k
            )));
        }
        if let Some(i) = signs.iter().position(|&s| s != 1 && s != -1) {
            return Err(err(format!(
                "BCQ weights: sign {} at {i} is not ±1",
                signs[i]
            )));
        }
        if let Some(t) = scales.iter().flatten().find(|t| t.exp < -126) {
            return Err(err(format!("BCQ weights: exponent {} below −126", t.exp)));
        }
        let words = k.div_ceil(32);
        let mut bits = vec![0u32; n * planes * words];
        for (row, out) in signs.chunks(k).zip(bits.chunks_mut(words)) {
            for (w, o) in out.iter_mut().enumerate() {
                // Padding positions are +1 (their x is 0).
                *o = (0..32).fold(0, |a, i| {
                    let s = row.get(32 * w + i).copied().unwrap_or(1);
                    a | (u32::from(s == 1) << i)
                });
            }
        }
        Ok(BcqWeights {
            planes,
            n,
            k,
            block_k,
            block_n,
            terms,
            bits,
            scales: scales.to_vec(),
        })
    }

    /// Greedy residual fit (ShiftAddLLM's start): per block and plane, `B = sign(r)`,
    /// `α = mean|r|` rounded to `terms` APoT terms, `r −= α·B`.
    pub fn quantize(
        w: &[f32],
        (planes, n, k): (usize, usize, usize),
        (block_k, block_n, terms): (usize, usize, usize),
    ) -> Result<Self, KernelError> {
        // The layout is checked before anything is allocated for it (a block wider than K is
        // the whole row).
        check_layout((planes, n, k), (block_k.min(k), block_n, terms))?;
        if w.len() != n * k {
            return Err(err(format!(
                "BCQ quantise: {} values for [{n}, {k}]",
                w.len()
            )));
        }
        let (kb, nb) = (k / block_k.min(k), n / block_n);
        let mut r: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let mut signs = vec![1i8; n * planes * k];
        let mut scales = vec![None; kb * planes * nb * terms];
        for b in 0..planes {
            for c in 0..kb {
                for g in 0..nb {
                    let cols = c * block_k..((c + 1) * block_k).min(k);
                    let rows = g * block_n..(g + 1) * block_n;
                    let cells = || rows.clone().flat_map(|i| cols.clone().map(move |j| (i, j)));
                    let mean = cells().map(|(i, j)| r[i * k + j].abs()).sum::<f64>()
                        / (rows.len() * cols.len()) as f64;
                    let a = apot(mean as f32, terms);
                    let alpha: f64 = a.iter().flatten().map(|t| f64::from(t.value())).sum();
                    for (i, j) in cells() {
                        let s = if r[i * k + j] >= 0.0 { 1 } else { -1 };
                        signs[(i * planes + b) * k + j] = s;
                        r[i * k + j] -= f64::from(s) * alpha;
                    }
                    let at = ((c * planes + b) * nb + g) * terms;
                    scales[at..at + terms].copy_from_slice(&a);
                }
            }
        }
        Self::from_planes(
            (planes, n, k),
            (block_k.min(k), block_n, terms),
            &signs,
            &scales,
        )
    }

    /// Sign planes.
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
    /// Columns per scale block.
    pub fn block_k(&self) -> usize {
        self.block_k
    }
    /// Rows per scale block.
    pub fn block_n(&self) -> usize {
        self.block_n
    }
    /// APoT terms per scale.
    pub fn terms(&self) -> usize {
        self.terms
    }
    /// u32 words per plane row.
    pub fn words(&self) -> usize {
        self.k.div_ceil(32)
    }
    /// The packed planes `[n, q, words]`.
    pub fn bits(&self) -> &[u32] {
        &self.bits
    }
    /// The scale terms `[k/block_k, q, n/block_n, terms]`.
    pub fn scales(&self) -> &[Option<ApotTerm>] {
        &self.scales
    }

    /// The terms of the scale of plane `b` at row `r`, column `c`.
    pub fn scale_terms(&self, b: usize, r: usize, c: usize) -> &[Option<ApotTerm>] {
        let nb = self.n / self.block_n;
        let at = (((c / self.block_k) * self.planes + b) * nb + r / self.block_n) * self.terms;
        &self.scales[at..at + self.terms]
    }

    /// Sign (±1) of plane `b` at row `r`, column `c`.
    pub fn sign(&self, b: usize, r: usize, c: usize) -> i8 {
        let w = self.bits[(r * self.planes + b) * self.words() + c / 32];
        if (w >> (c % 32)) & 1 == 1 {
            1
        } else {
            -1
        }
    }

    /// The weights as f64 `[n, k]`.
    pub fn dequantize_f64(&self) -> Vec<f64> {
        let mut out = vec![0f64; self.n * self.k];
        for r in 0..self.n {
            for c in 0..self.k {
                out[r * self.k + c] = (0..self.planes)
                    .map(|b| {
                        let a: f64 = self
                            .scale_terms(b, r, c)
                            .iter()
                            .flatten()
                            .map(|t| f64::from(t.value()))
                            .sum();
                        a * f64::from(self.sign(b, r, c))
                    })
                    .sum();
            }
        }
        out
    }

    /// The weights as f32 `[n, k]` (each rounded once from the exact value).
    pub fn dequantize(&self) -> Vec<f32> {
        self.dequantize_f64().iter().map(|&v| v as f32).collect()
    }
}

/// The 256-entry sign tables of one token (`x` padded with zeros to whole chunks of 8):
/// `T[c·256 + i] = Σ_j (2·bit_j(i) − 1)·x[8c + j]`, by adds.
pub fn sign_tables(x: &[f32], chunks: usize) -> Vec<f32> {
    let mut t = vec![0f32; chunks * 256];
    for (c, tab) in t.chunks_mut(256).enumerate() {
        let xs: [f32; 8] = std::array::from_fn(|j| x.get(8 * c + j).copied().unwrap_or(0.0));
        tab[0] = -xs.iter().sum::<f32>();
        for (s, &xv) in xs.iter().enumerate() {
            let half = 1 << s;
            for i in half..2 * half {
                tab[i] = tab[i - half] + 2.0 * xv;
            }
        }
    }
    t
}

fn check(
    w: &BcqWeights,
    x_len: usize,
    m: usize,
    bias: Option<&[f32]>,
    y_len: usize,
) -> Result<(), KernelError> {
    crate::error::check_dims(x_len, w.n * w.k, y_len, m, w.n, w.k)?;
    match bias {
        Some(b) if b.len() != w.n => {
            Err(err(format!("a bias of {} values for N = {}", b.len(), w.n)))
        }
        _ => Ok(()),
    }
}

/// `y = x · Wᵀ (+ bias)`, x `[m, k]` f32, y `[m, n]`: query-and-add (module docs), threaded over
/// rows.
pub fn bcq_matmul(
    threads: usize,
    w: &BcqWeights,
    x: &[f32],
    m: usize,
    bias: Option<&[f32]>,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check(w, x.len(), m, bias, y.len())?;
    let (n, k, words) = (w.n, w.k, w.words());
    let chunks = k.div_ceil(8);
    let nb = n / w.block_n;
    // Each scale's present terms as ±2^p multipliers (exact ldexp of a normal value), packed
    // to the front, and how many there are; reordered `[row group, K block, plane]` so that a
    // row walks its scales in memory order.
    let kbs = k / w.block_k;
    let mut mult = vec![([0f32; MAX_TERMS], 0usize); w.scales.len() / w.terms];
    for (i, ts) in w.scales.chunks(w.terms).enumerate() {
        let (kb, b, rg) = (i / (w.planes * nb), i / nb % w.planes, i % nb);
        let e = &mut mult[(rg * kbs + kb) * w.planes + b];
        for t in ts.iter().flatten() {
            e.0[e.1] = t.value();
            e.1 += 1;
        }
    }
    let chunks_per_block = w.block_k.div_ceil(8);
    // The scale block of every chunk (chunks past the last whole block belong to it).
    let chunk_kb: Vec<usize> = (0..chunks)
        .map(|c| (c / chunks_per_block).min(kbs - 1))
        .collect();
    for (t, yt) in y.chunks_mut(n).enumerate() {
        let tab = sign_tables(&x[t * k..(t + 1) * k], chunks);
        // Rows in blocks of 64, K in tiles of 32 chunks: a tile's tables (32 KiB) stay in L1
        // while the block's rows look them up.
        let block = |(blk, out): (usize, &mut [f32])| {
            out.fill(0.0);
            for c0 in (0..chunks).step_by(TILE_CHUNKS) {
                let cs = c0..(c0 + TILE_CHUNKS).min(chunks);
                for (i, o) in out.iter_mut().enumerate() {
                    let r = 64 * blk + i;
                    let rg = r / w.block_n;
                    // Three accumulators: the terms' adds do not wait on each other.
                    let mut acc = [0f32; MAX_TERMS];
                    for b in 0..w.planes {
                        let plane = &w.bits[(r * w.planes + b) * words..][..words];
                        for c in cs.clone() {
                            let idx = ((plane[c / 4] >> (8 * (c % 4))) & 0xFF) as usize;
                            let v = tab[c * 256 + idx];
                            let (m, used) = &mult[(rg * kbs + chunk_kb[c]) * w.planes + b];
                            for (a, &f) in acc.iter_mut().zip(&m[..*used]) {
                                *a += v * f;
                            }
                        }
                    }
                    *o += (acc[0] + acc[1]) + acc[2];
                }
            }
            for (i, o) in out.iter_mut().enumerate() {
                *o += bias.map_or(0.0, |b| b[64 * blk + i]);
            }
        };
        if threads <= 1 {
            yt.chunks_mut(64).enumerate().for_each(block);
        } else {
            yt.par_chunks_mut(64).enumerate().for_each(block);
        }
    }
    Ok(())
}

/// Chunks of 8 inputs per K tile of the CPU kernel (their tables: 32 KiB).
const TILE_CHUNKS: usize = 32;

/// A bound on `|y − x·Wᵀ|` for any order of the f32 additions: each table entry is within
/// `16u·Σ_chunk|x|` of its exact value (≤ 15 roundings of values bounded by `Σ|x|`, with slack),
/// the exponent adds are exact, and the `C·q·terms` scaled look-ups are summed with at most that
/// many roundings plus one per K tile and a few to join the partial sums, so
/// `|err| ≤ (20 + C·q·terms + C/32)·u·Σ_c Σ_b Σ_t 2^p·Σ_chunk|x| + u·|bias|`, u = 2⁻²⁴.
///
/// For the operands of a matmul that accepted them: `x` must hold `m·K` values and `bias` `N`
/// (it panics otherwise, as slice indexing does).
pub fn error_bound(w: &BcqWeights, x: &[f32], m: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let (n, k) = (w.n, w.k);
    let chunks = k.div_ceil(8);
    let u = f64::from(f32::EPSILON) / 2.0;
    let gamma = (20 + chunks * w.planes * w.terms + chunks / TILE_CHUNKS) as f64 * u;
    let mut out = vec![0f32; m * n];
    for t in 0..m {
        let mags: Vec<f64> = (0..chunks)
            .map(|c| {
                (8 * c..(8 * c + 8).min(k))
                    .map(|i| f64::from(x[t * k + i].abs()))
                    .sum()
            })
            .collect();
        for r in 0..n {
            let mut a = 0f64;
            for (c, &mag) in mags.iter().enumerate() {
                for b in 0..w.planes {
                    let s: f64 = w
                        .scale_terms(b, r, 8 * c)
                        .iter()
                        .flatten()
                        .map(|t| f64::from(t.value()).abs())
                        .sum();
                    a += s * mag;
                }
            }
            let bias_term = bias.map_or(0.0, |b| f64::from(b[r].abs())) * u;
            out[t * n + r] = ((gamma * a + bias_term) * 1.01) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apot_is_greedy_and_exact_on_sums_of_powers() {
        let t = apot(0.75, 3);
        let v: f32 = t.iter().flatten().map(|a| a.value()).sum();
        assert_eq!(v, 0.75);
        // 0.75: round(log2 0.75) = 0 → 1, residual −0.25 → −2^−2.
        assert_eq!(
            t[0],
            Some(ApotTerm {
                negative: false,
                exp: 0
            })
        );
        assert_eq!(
            t[1],
            Some(ApotTerm {
                negative: true,
                exp: -2
            })
        );
        assert_eq!(t[2], None);
        assert_eq!(apot(0.0, 2), vec![None, None]);
    }

    #[test]
    fn tables_are_signed_sums() {
        let x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 0.5];
        let t = sign_tables(&x, 2);
        for (i, &got) in t[..256].iter().enumerate() {
            let want: f32 = (0..8)
                .map(|j| if (i >> j) & 1 == 1 { x[j] } else { -x[j] })
                .sum();
            assert_eq!(got, want);
        }
        assert_eq!(t[256], -0.5);
        assert_eq!(t[257], 0.5);
    }
}
