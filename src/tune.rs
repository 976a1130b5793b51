//! Autotuning (`lowbit tune`): a small search over the dense matmul's workgroup parameters — the
//! GEMV's invocations and rows per workgroup, the GEMM's workgroup shape and K step — per adapter
//! and shape class, each candidate timed on a representative problem beside the default. A
//! choice is kept only where it beat the default in a final side-by-side run, so tuning never
//! makes a kernel slower; kept choices are cached on disk keyed by adapter, driver and lowbit
//! version, and dispatch ([`tuned`]) uses them when present, the defaults otherwise.
//!
//! The cache: `LOWBIT_TUNE_CACHE` (a file; `off` disables it), else
//! `$XDG_CACHE_HOME/lowbit/tune.json`, else `~/.cache/lowbit/tune.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Duration;

use lowbit_kernels::DType;
use serde::{Deserialize, Serialize};

use crate::context::{gpu_info, Backend, BackendInfo, Context};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::measure::measure_gpu_runs;
use crate::ops::matmul::{self as mm, GemmTile, MatmulKernel, MatmulVariant};
use crate::tensor::Tensor;

/// The environment variable naming the cache file (`off`: no cache).
pub const TUNE_CACHE_ENV: &str = "LOWBIT_TUNE_CACHE";

/// Gain a candidate must show over the default in the final side-by-side run to be kept: below
/// it, the difference is within a shared machine's noise.
const KEEP_GAIN: f64 = 1.03;

/// A tuned choice for one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "lowercase")]
pub enum Choice {
    /// GEMV workgroup: `wg` invocations over `rows` rows.
    Gemv {
        /// Invocations.
        wg: u32,
        /// Rows per workgroup.
        rows: u32,
    },
    /// GEMM tile.
    Gemm {
        /// Workgroup width.
        wg_x: u32,
        /// Workgroup height.
        wg_y: u32,
        /// K step.
        bk: u32,
        /// Rows per invocation.
        tm: u32,
        /// Columns per invocation.
        tn: u32,
    },
}

impl Choice {
    fn apply(self, v: MatmulVariant) -> MatmulVariant {
        match (self, v.kernel) {
            (Choice::Gemv { wg, rows }, MatmulKernel::Gemv) => v.with_gemv_shape(wg, rows),
            (
                Choice::Gemm {
                    wg_x,
                    wg_y,
                    bk,
                    tm,
                    tn,
                },
                MatmulKernel::Gemm,
            ) => v.with_tile(GemmTile {
                wg_x,
                wg_y,
                bk,
                tm,
                tn,
            }),
            _ => v,
        }
    }

    fn of(v: MatmulVariant) -> Self {
        match v.kernel {
            MatmulKernel::Gemv => {
                let (wg, rows) = v.shape.dims();
                Choice::Gemv { wg, rows }
            }
            _ => Choice::Gemm {
                wg_x: v.tile.wg_x,
                wg_y: v.tile.wg_y,
                bk: v.tile.bk,
                tm: v.tile.tm,
                tn: v.tile.tn,
            },
        }
    }
}

/// A kept choice and what it measured against the default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunedEntry {
    /// The parameters dispatch uses.
    pub choice: Choice,
    /// The default's time on the representative problem, ms (best of the side-by-side run).
    pub default_ms: f64,
    /// The choice's time, ms.
    pub tuned_ms: f64,
}

/// The cache file: adapter key → class → kept choice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TuneCache {
    /// Entries per adapter (`name|backend|driver|lowbit version`).
    pub adapters: BTreeMap<String, BTreeMap<String, TunedEntry>>,
}

/// Where the cache lives, or `None` when disabled or there is no home directory.
pub fn cache_path() -> Option<PathBuf> {
    match std::env::var_os(TUNE_CACHE_ENV) {
        Some(p) if p == "off" => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("lowbit").join("tune.json")),
    }
}

/// The key an adapter's entries are filed under: a driver or lowbit update retunes.
pub fn adapter_key(ctx: &Context) -> String {
    versioned(&ctx.info())
}

fn versioned(info: &BackendInfo) -> String {
    format!("{}|lowbit {}", info.key(), env!("CARGO_PKG_VERSION"))
}

/// The shape class a problem falls in: the GEMV per activation row count, the GEMM per dtypes.
pub fn class(kernel: MatmulKernel, x: DType, w: DType, m: usize) -> String {
    match kernel {
        MatmulKernel::Gemv => format!("gemv.x{x}.w{w}.m{m}"),
        _ => format!("gemm.x{x}.w{w}"),
    }
}

/// Reads a cache file; a missing file is an empty cache, an unreadable one an error.
pub fn read_cache(path: &Path) -> Result<TuneCache> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Error::InvalidArgument(format!("{} is not a tuning cache: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TuneCache::default()),
        Err(e) => Err(Error::InvalidArgument(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

fn write_cache(path: &Path, cache: &TuneCache) -> Result<()> {
    let io = |e: std::io::Error| Error::InvalidArgument(format!("writing {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_string_pretty(cache).expect("a cache serialises") + "\n";
    // Written aside and renamed, so a reader never sees half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The cache this process dispatches with: read from disk on first use (a bad file counts as
/// empty and is reported once), replaced by [`tune`].
static LOADED: RwLock<Option<TuneCache>> = RwLock::new(None);

fn with_cache<T>(f: impl FnOnce(&TuneCache) -> T) -> T {
    if let Some(c) = LOADED.read().expect("tuning cache lock").as_ref() {
        return f(c);
    }
    let cache = match cache_path().map(|p| read_cache(&p)) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            eprintln!("lowbit: ignoring the tuning cache: {e}");
            TuneCache::default()
        }
        None => TuneCache::default(),
    };
    let mut w = LOADED.write().expect("tuning cache lock");
    f(w.get_or_insert(cache))
}

/// The choice the cache holds for `class` on `ctx`'s adapter, if any.
pub fn cached_choice(ctx: &Context, class: &str) -> Option<TunedEntry> {
    let key = adapter_key(ctx);
    with_cache(|c| c.adapters.get(&key)?.get(class).cloned())
}

/// `default` with the cached choice for its class applied, where there is one that fits.
pub(crate) fn tuned(
    g: &Gpu,
    default: MatmulVariant,
    x: DType,
    w: DType,
    m: usize,
) -> MatmulVariant {
    if default.kernel == MatmulKernel::Cpu {
        return default;
    }
    let key = versioned(&gpu_info(g));
    let class = class(default.kernel, x, w, m);
    let Some(entry) = with_cache(|c| c.adapters.get(&key)?.get(&class).cloned()) else {
        return default;
    };
    let v = entry.choice.apply(default);
    if v.fits(g).is_ok() {
        v
    } else {
        default
    }
}

/// Every candidate the search tries for `default` (itself excluded), all fitting the adapter.
pub fn candidates(ctx: &Context, default: MatmulVariant) -> Vec<MatmulVariant> {
    let Some(g) = ctx.gpu() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match default.kernel {
        MatmulKernel::Gemv => {
            for wg in [8, 16, 32, 64, 128, 256] {
                for rows in [1, 2, 4, 8, 16] {
                    out.push(default.with_gemv_shape(wg, rows));
                }
            }
        }
        MatmulKernel::Gemm => {
            // The 4×4 register block stays: llvmpipe's K slices are sized for it, and only
            // what CI runs is offered.
            for (wg_x, wg_y) in [(8, 8), (16, 8), (8, 16), (16, 16), (32, 8), (8, 32)] {
                for bk in [4, 8, 16, 32] {
                    out.push(default.with_tile(GemmTile {
                        wg_x,
                        wg_y,
                        bk,
                        ..GemmTile::DEFAULT
                    }));
                }
            }
        }
        MatmulKernel::Cpu => {}
    }
    let same = Choice::of(default);
    out.retain(|v| Choice::of(*v) != same && v.fits(g).is_ok());
    out
}

/// One class's search.
#[derive(Clone, Debug, Serialize)]
pub struct TuneResult {
    /// Shape class.
    pub class: String,
    /// The representative problem (M, N, K).
    pub shape: (usize, usize, usize),
    /// Candidates timed besides the default.
    pub candidates: usize,
    /// The default variant.
    pub default: String,
    /// Its best time in the side-by-side run, ms.
    pub default_ms: f64,
    /// The fastest candidate.
    pub best: String,
    /// Its best time in the side-by-side run, ms.
    pub best_ms: f64,
    /// default_ms ÷ best_ms.
    pub gain: f64,
    /// Whether the choice was kept (gain ≥ 1.03); else dispatch keeps the default.
    pub kept: bool,
}

/// The classes `lowbit tune` searches: GEMV at M = 1 and 4 and the GEMM, for f32, f16 and
/// f32 × f16 operands.
pub fn default_classes() -> Vec<(MatmulKernel, DType, DType, usize)> {
    let mut v = Vec::new();
    for (x, w) in [
        (DType::F32, DType::F32),
        (DType::F16, DType::F16),
        (DType::F32, DType::F16),
    ] {
        v.push((MatmulKernel::Gemv, x, w, 1));
        v.push((MatmulKernel::Gemv, x, w, 4));
        v.push((MatmulKernel::Gemm, x, w, 0));
    }
    v
}

fn seeded_tensor(ctx: &Context, dtype: DType, shape: [usize; 2], seed: u64) -> Result<Tensor> {
    let v = crate::bench::seeded_signed(shape[0] * shape[1], seed);
    match dtype {
        DType::F16 => {
            let h: Vec<half::f16> = v.iter().map(|&a| half::f16::from_f32(a)).collect();
            Tensor::from_slice(ctx, &h, &shape)
        }
        DType::BF16 => {
            let h: Vec<half::bf16> = v.iter().map(|&a| half::bf16::from_f32(a)).collect();
            Tensor::from_slice(ctx, &h, &shape)
        }
        _ => Tensor::from_slice(ctx, &v, &shape),
    }
}

/// Searches `classes` on `ctx` (each candidate timed for `budget`), keeps what beat the
/// default, writes the cache (this adapter's entries replaced) to `path`, and makes this
/// process dispatch with it. The CPU backend has no workgroup parameters: an error.
pub fn tune(
    ctx: &Context,
    classes: &[(MatmulKernel, DType, DType, usize)],
    budget: Duration,
    path: Option<&Path>,
    mut each: impl FnMut(&TuneResult),
) -> Result<Vec<TuneResult>> {
    let g = match &*ctx.inner {
        Backend::Gpu(g) => g,
        Backend::Cpu(_) => {
            return Err(Error::Unsupported(
                "tuning searches GPU workgroup parameters; the CPU backend has none".into(),
            ))
        }
    };
    let mut kept = BTreeMap::new();
    let mut out = Vec::new();
    for &(kernel, xd, wd, m_class) in classes {
        // Representative problems: a 4096² decode GEMV; a GEMM small enough for CPU devices.
        let (m, n, k) = match kernel {
            MatmulKernel::Gemv => (m_class, 4096, 4096),
            _ if g.caps.cpu_device => (128, 1024, 1024),
            _ => (512, 4096, 4096),
        };
        let x = seeded_tensor(ctx, xd, [m, k], 1)?;
        let w = seeded_tensor(ctx, wd, [n, k], 2)?;
        let default = mm::variants(ctx, xd, wd, m, k)[0];
        if default.kernel != kernel {
            continue;
        }
        let y = g.alloc((m * n * 4) as u64, "y")?;
        let (xv, wv) = (x.view(), w.view());
        let time = |v: MatmulVariant, budget: Duration| -> Result<f64> {
            let t = measure_gpu_runs(g, budget, |timer| {
                mm::gpu(g, &xv, &wv, None, &y, 0, Some(v), timer)
            })?;
            Ok(t.min)
        };
        let cands = candidates(ctx, default);
        let mut best = (default, time(default, budget)?);
        for &c in &cands {
            let t = time(c, budget)?;
            if t < best.1 {
                best = (c, t);
            }
        }
        // Side by side, taking turns, so a slow spell of a shared machine hits both.
        let (mut d_min, mut b_min) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..3 {
            d_min = d_min.min(time(default, budget)?);
            b_min = b_min.min(time(best.0, budget)?);
        }
        let gain = d_min / b_min;
        let keep = best.0 != default && gain >= KEEP_GAIN;
        let class = class(kernel, xd, wd, m_class);
        if keep {
            kept.insert(
                class.clone(),
                TunedEntry {
                    choice: Choice::of(best.0),
                    default_ms: d_min * 1e3,
                    tuned_ms: b_min * 1e3,
                },
            );
        }
        let r = TuneResult {
            class,
            shape: (m, n, k),
            candidates: cands.len(),
            default: default.name(),
            default_ms: d_min * 1e3,
            best: best.0.name(),
            best_ms: b_min * 1e3,
            gain,
            kept: keep,
        };
        each(&r);
        out.push(r);
    }
    let key = adapter_key(ctx);
    let mut cache = match path {
        Some(p) => read_cache(p)?,
        None => TuneCache::default(),
    };
    cache.adapters.insert(key.clone(), kept.clone());
    if let Some(p) = path {
        write_cache(p, &cache)?;
    }
    // This process dispatches with what was just found.
    with_cache(|_| ());
    LOADED
        .write()
        .expect("tuning cache lock")
        .get_or_insert_with(TuneCache::default)
        .adapters
        .insert(key, kept);
    Ok(out)
}
