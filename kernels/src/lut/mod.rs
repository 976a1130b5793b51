//! LUT-based low-bit matmul (T-MAC): b-bit weights as b planes of 4-bit indices
//! ([`LutWeights`]), activations turned into 16-entry tables per group of four ([`tables`]),
//! and products replaced by table look-ups and adds, so the work per weight scales with the
//! bit width. Facts and sources: `shared/design/reference/tmac_lut.md`.
//!
//! [`lut_matmul`] runs `y = x · Wᵀ` on the CPU, threaded over tiles of 32 rows: `vpshufb`
//! (int8 tables; 512-bit with AVX-512 BW) and `vpermps` (f32 tables) kernels where the
//! machine has AVX2, NEON `tbl` (int8 tables) on aarch64, the portable kernels ([`scalar`])
//! otherwise; all follow one operation order, so they agree bit for bit. [`dequant_matmul`]
//! dequantises the same planes instead: the baseline the tables are measured against.

pub mod convert;
mod dequant;
pub mod layout;
#[cfg(target_arch = "aarch64")]
mod neon;
pub(crate) mod scalar;
pub mod tables;
#[cfg(target_arch = "x86_64")]
mod x86;

use rayon::prelude::*;

pub use layout::{LutWeights, TILE_ROWS};

use crate::{KernelError, SimdLevel};
use tables::ENTRIES;

/// The precision of the activation tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LutPrecision {
    /// f32 tables and accumulation: within the f32 bound of [`error_bound`].
    F32,
    /// int8 tables with one scale per span (T-MAC's speed path), int16/int32 sums: adds the
    /// table rounding term of [`error_bound`].
    Int8,
}

impl LutPrecision {
    /// `f32` or `int8`.
    pub fn name(self) -> &'static str {
        match self {
            LutPrecision::F32 => "f32",
            LutPrecision::Int8 => "int8",
        }
    }
}

/// One token's tables as the tile kernels read them.
pub(crate) enum Tables<'a> {
    /// `[2·pairs][16]` f32 (a zero table pads an odd number of index groups).
    F32 { t: &'a [f32] },
    /// `[2·pairs][16]` int8 and one scale per span.
    Int8 { q: &'a [i8], ls: &'a [f32] },
}

/// Every token's tables, built once and shared by every row.
struct Prepared {
    t: Vec<f32>,
    q: Vec<i8>,
    ls: Vec<f32>,
    sx: Vec<f32>,
    per_t: usize,
    per_ls: usize,
    groups: usize,
}

impl Prepared {
    fn new(level: SimdLevel, w: &LutWeights, x: &[f32], m: usize, precision: LutPrecision) -> Self {
        let k = w.k();
        let per_t = 2 * w.pairs() * ENTRIES;
        let per_ls = k.div_ceil(w.span());
        let groups = w.groups();
        let mut p = Prepared {
            t: Vec::new(),
            q: Vec::new(),
            ls: vec![0f32; m * per_ls],
            sx: vec![0f32; m * groups],
            per_t,
            per_ls,
            groups,
        };
        match precision {
            LutPrecision::F32 => p.t = vec![0f32; m * per_t],
            LutPrecision::Int8 => p.q = vec![0i8; m * per_t],
        }
        for (t, xr) in x.chunks(k).enumerate().take(m) {
            let (t_out, ls) = (t * per_t..(t + 1) * per_t, t * per_ls..(t + 1) * per_ls);
            match (precision, level) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: kernel_level() returns Avx2 only where the machine has AVX2 and FMA;
                // K is a multiple of 4 and the outputs are sized for it.
                (LutPrecision::F32, SimdLevel::Avx2 | SimdLevel::Avx512) => unsafe {
                    x86::tables_f32(xr, &mut p.t[t_out])
                },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                (LutPrecision::Int8, SimdLevel::Avx2 | SimdLevel::Avx512) => unsafe {
                    x86::tables_i8(xr, w.span(), &mut p.q[t_out], &mut p.ls[ls])
                },
                (LutPrecision::F32, _) => tables::tables_f32(xr, &mut p.t[t_out]),
                (LutPrecision::Int8, _) => {
                    tables::tables_i8(xr, w.span(), &mut p.q[t_out], &mut p.ls[ls])
                }
            }
            tables::group_sums(xr, w.group(), &mut p.sx[t * groups..][..groups]);
        }
        p
    }

    fn token(&self, t: usize) -> (Tables<'_>, &[f32]) {
        let tabs = if self.q.is_empty() {
            Tables::F32 {
                t: &self.t[t * self.per_t..][..self.per_t],
            }
        } else {
            Tables::Int8 {
                q: &self.q[t * self.per_t..][..self.per_t],
                ls: &self.ls[t * self.per_ls..][..self.per_ls],
            }
        };
        (tabs, &self.sx[t * self.groups..][..self.groups])
    }
}

/// The kernel level [`lut_matmul`] runs at for a requested `level` on this machine: AVX-512
/// (int8 tables on 512-bit vectors; the rest as AVX2), AVX2, NEON (int8 tables; f32 tables
/// and the dequantise baseline portable), or the portable kernels.
pub fn kernel_level(level: SimdLevel) -> SimdLevel {
    match crate::simd::clamp(level) {
        SimdLevel::Avx512 => SimdLevel::Avx512,
        SimdLevel::Avx2 => SimdLevel::Avx2,
        SimdLevel::Neon => SimdLevel::Neon,
        _ => SimdLevel::Scalar,
    }
}

/// One tile against one token at `level`.
fn run_tile(
    level: SimdLevel,
    w: &LutWeights,
    tile: usize,
    tabs: &Tables,
    sx: &[f32],
    y: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: kernel_level() returns Avx512 only where the machine has AVX-512 F/BW (and
        // AVX2, FMA), Avx2 only where it has AVX2 and FMA.
        SimdLevel::Avx512 => return unsafe { x86::tile512(w, tile, tabs, sx, y) },
        // SAFETY: as above.
        SimdLevel::Avx2 => return unsafe { x86::tile(w, tile, tabs, sx, y) },
        _ => {}
    }
    #[cfg(target_arch = "aarch64")]
    if let (SimdLevel::Neon, Tables::Int8 { q, ls }) = (level, tabs) {
        return neon::tile_i8(w, tile, q, ls, sx, y);
    }
    let _ = level;
    scalar::tile(w, tile, tabs, sx, y)
}

/// `y = x · Wᵀ`: x `[m, K]` f32, y `[m, N]`, with `precision` tables, at `level` (capped to
/// the machine), on `threads` threads over tiles of 32 rows.
pub fn lut_matmul(
    level: SimdLevel,
    threads: usize,
    precision: LutPrecision,
    w: &LutWeights,
    x: &[f32],
    m: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check_operands(w, x, m, y)?;
    let level = kernel_level(level);
    let prep = Prepared::new(level, w, x, m, precision);
    per_tile(threads, w, m, y, |tile, t, out| {
        let (tabs, sx) = prep.token(t);
        run_tile(level, w, tile, &tabs, sx, out);
    });
    Ok(())
}

/// Runs `f(tile, token, out)` for every tile and token, on `threads` threads over tiles, and
/// scatters each tile's 32 outputs into `y` `[m, N]`.
fn per_tile(
    threads: usize,
    w: &LutWeights,
    m: usize,
    y: &mut [f32],
    f: impl Fn(usize, usize, &mut [f32]) + Sync,
) {
    let n = w.n();
    let tile_out = |tile: usize, out: &mut [f32]| {
        for (t, o) in out.chunks_exact_mut(TILE_ROWS).enumerate() {
            f(tile, t, o);
        }
    };
    let mut tiles = vec![0f32; w.tiles() * m * TILE_ROWS];
    if threads <= 1 {
        for (tile, out) in tiles.chunks_mut(m * TILE_ROWS).enumerate() {
            tile_out(tile, out);
        }
    } else {
        tiles
            .par_chunks_mut(m * TILE_ROWS)
            .enumerate()
            .for_each(|(tile, out)| tile_out(tile, out));
    }
    for (tile, out) in tiles.chunks(m * TILE_ROWS).enumerate() {
        let r0 = tile * TILE_ROWS;
        let rows = TILE_ROWS.min(n - r0);
        for (t, o) in out.chunks_exact(TILE_ROWS).enumerate() {
            y[t * n + r0..][..rows].copy_from_slice(&o[..rows]);
        }
    }
}

fn check_operands(w: &LutWeights, x: &[f32], m: usize, y: &[f32]) -> Result<(), KernelError> {
    let (n, k) = (w.n(), w.k());
    if m == 0 || x.len() != m * k || y.len() != m * n {
        return Err(KernelError::Shape(format!(
            "LUT matmul: x has {} values, y {} for M = {m}, N = {n}, K = {k}",
            x.len(),
            y.len()
        )));
    }
    Ok(())
}

/// `y = x · Wᵀ` by dequantising the planes in registers — each weight's code assembled from
/// its plane bits, `y += s·Σ u·x − s·z·Σx` per group in f32 — the baseline the table kernels
/// are measured against (AVX2 where the machine has it, portable Rust otherwise).
/// Within the f32 bound of [`error_bound`] for [`LutPrecision::F32`].
pub fn dequant_matmul(
    level: SimdLevel,
    threads: usize,
    w: &LutWeights,
    x: &[f32],
    m: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check_operands(w, x, m, y)?;
    let k = w.k();
    let mut sx = vec![0f32; m * w.groups()];
    for (xr, s) in x.chunks(k).zip(sx.chunks_mut(w.groups())) {
        tables::group_sums(xr, w.group(), s);
    }
    let level = kernel_level(level);
    per_tile(threads, w, m, y, |tile, t, out| {
        let (xt, st) = (&x[t * k..(t + 1) * k], &sx[t * w.groups()..]);
        #[cfg(target_arch = "x86_64")]
        if level >= SimdLevel::Avx2 {
            // SAFETY: kernel_level() returns Avx2 or Avx512 only where the machine has AVX2
            // and FMA.
            unsafe { x86::dequant_tile(w, tile, xt, st, out) };
            return;
        }
        let _ = level;
        dequant::tile(w, tile, xt, st, out)
    });
    Ok(())
}

/// A bound on `|y − Σ_k w_k·x_k|` for row `row` and one token `x` (`w` the dequantised
/// weights, the sum exact): f32 rounding `(K + 16)·2⁻²⁴·M`, where `M` sums the magnitudes the
/// kernels add — per group `|s|·(2c + |z|)·X` with `X = Σ|x|` over the group and
/// `c = (2^b − 1)/2` (tables: `c·X + |c − z|·X`; dequantising: `Σ u·|x| + |z|·X`; int8
/// tables: `|s|·(c·127·Σ_span ls·n4 + |c − z|·X)`, the integer sums' own magnitude) — plus, for int8 tables, their rounding: each entry `Q·ls` is within `ls/2` of
/// `T` (and `2⁻¹²` of that for `1/ls` being rounded), so a span of `n4` index groups adds
/// `|s|·½·Σ_i 2^i·n4·ls/2 = |s|·c·n4·ls/2`.
///
/// For the operands of a matmul that accepted them: `x` must hold `K` values (it panics
/// otherwise, as slice indexing does).
pub fn error_bound(w: &LutWeights, x: &[f32], row: usize, precision: LutPrecision) -> f64 {
    let geo = scalar::TileGeometry::of(w);
    let span = w.span();
    let c = f64::from(geo.c);
    let (mut mag, mut table) = (0f64, 0f64);
    for g in 0..geo.groups {
        let (s, z) = w.scale_zero(row, g);
        let (s, z) = (f64::from(s).abs(), f64::from(z));
        let cols = g * w.group()..((g + 1) * w.group()).min(w.k());
        let xs = &x[cols];
        let abs: f64 = xs.iter().map(|&v| f64::from(v.abs())).sum();
        match precision {
            // The tables' `c·X` and `|c − z|·X`, or the dequantising kernel's `Σu|x| ≤ 2c·X`
            // and `|z|·X`: both within `(2c + |z|)·X`.
            LutPrecision::F32 => mag += s * (2.0 * c + z.abs()) * abs,
            LutPrecision::Int8 => {
                for xsp in xs.chunks(span) {
                    let ls = f64::from(tables::span_scale(xsp));
                    let n4 = (xsp.len() / 4) as f64;
                    mag += s * (c * 127.0 * ls * n4 + (c - z).abs() * abs);
                    table += s * c * n4 * ls * 0.5 * (1.0 + 1.0 / 4096.0);
                }
            }
        }
    }
    (w.k() as f64 + 16.0) * f64::from(f32::EPSILON) * 0.5 * mag + table
}
