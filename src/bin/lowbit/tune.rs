//! `lowbit tune`: the dense matmul's workgroup parameters searched per adapter and shape class,
//! kept where faster than the defaults, cached for dispatch.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lowbit::tune::{cache_path, default_classes, tune, TuneResult};

/// Arguments of `lowbit tune`.
#[derive(clap::Args)]
pub struct Args {
    /// Adapter: index, name substring or backend (default: LOWBIT_ADAPTER, else the best).
    #[arg(long, conflicts_with = "all_adapters")]
    adapter: Option<String>,
    /// Every GPU adapter.
    #[arg(long)]
    all_adapters: bool,
    /// Seconds of timed runs per candidate.
    #[arg(long, default_value_t = 0.15)]
    seconds: f64,
    /// The cache file to update (default: LOWBIT_TUNE_CACHE, else ~/.cache/lowbit/tune.json).
    /// Dispatch reads the default file, so another one named here is used only where
    /// LOWBIT_TUNE_CACHE points to it.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Also write every class's search as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn row(r: &TuneResult) {
    println!(
        "{:<22} {:>4}x{:<5}x{:<5} {:>3}  {:<28} {:>9.3}  {:<34} {:>9.3}  {:>5.2}x  {}",
        r.class,
        r.shape.0,
        r.shape.1,
        r.shape.2,
        r.candidates,
        r.default,
        r.default_ms,
        r.best,
        r.best_ms,
        r.gain,
        if r.kept { "kept" } else { "default stays" }
    );
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if !args.seconds.is_finite() || args.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    let mut ctxs = crate::contexts(args.adapter.as_deref(), args.all_adapters)?;
    ctxs.retain(|c| c.is_gpu());
    if ctxs.is_empty() {
        return Err(
            "tuning needs a GPU adapter (the CPU backend has no workgroup parameters)".into(),
        );
    }
    let path = args.cache.clone().or_else(cache_path);
    let mut all = Vec::new();
    for ctx in &ctxs {
        let info = ctx.info();
        println!("== {} ({}, {})", info.name, info.backend, info.driver);
        println!(
            "{:<22} {:>16} {:>4}  {:<28} {:>9}  {:<34} {:>9}  {:>6}",
            "class", "M x N x K", "cand", "default", "ms", "best", "ms", "gain"
        );
        let results = tune(
            ctx,
            &default_classes(),
            Duration::from_secs_f64(args.seconds),
            path.as_deref(),
            row,
        )?;
        all.push(serde_json::json!({"adapter": info.name, "backend": info.backend, "driver": info.driver, "classes": results}));
    }
    match &path {
        Some(p) if cache_path().as_deref() != Some(p.as_path()) => println!(
            "cache: {} (dispatch reads {}: set {}={} to use this one)",
            p.display(),
            cache_path().map_or("no cache".into(), |d| d.display().to_string()),
            lowbit::tune::TUNE_CACHE_ENV,
            p.display()
        ),
        Some(p) => println!("cache: {}", p.display()),
        None => println!(
            "cache: off ({} = off), nothing written",
            lowbit::tune::TUNE_CACHE_ENV
        ),
    }
    if let Some(p) = &args.json {
        crate::write_json(p, &serde_json::json!({ "adapters": all }))?;
    }
    Ok(ExitCode::SUCCESS)
}
