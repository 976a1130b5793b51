//! `lowbit validate`: every op and variant against the CPU reference, on one adapter or all.

use std::path::PathBuf;
use std::process::ExitCode;

use lowbit::validate::{validate_context, CaseResult};
use lowbit::Context;
use serde_json::json;

/// Arguments of `lowbit validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Adapter: index, name substring, backend (vulkan, gl, metal, dx12), or cpu. Default:
    /// LOWBIT_ADAPTER, else the best GPU adapter.
    #[arg(long, conflicts_with = "all_adapters")]
    adapter: Option<String>,
    /// Every GPU adapter and the CPU backend.
    #[arg(long)]
    all_adapters: bool,
    /// Also write every case as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Check a quantized-matmul test-vector file (the format of tests/data/quant_vectors.gguf)
    /// instead of the built-in cases: per case, the decode bit-exact and the matmul within
    /// the f32 bound.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Print every case, not only failures and a summary per adapter.
    #[arg(long, short)]
    verbose: bool,
}

fn contexts(args: &Args) -> Result<Vec<Context>, lowbit::Error> {
    if args.all_adapters {
        let mut v = Vec::new();
        for c in Context::all_gpus() {
            v.push(c?);
        }
        if v.is_empty() {
            return Err(lowbit::Error::Adapter(
                "--all-adapters found no GPU adapter (install mesa-vulkan-drivers for lavapipe)"
                    .into(),
            ));
        }
        v.push(Context::cpu());
        return Ok(v);
    }
    match &args.adapter {
        Some(sel) => Context::with_adapter(sel).map(|c| vec![c]),
        None => Context::new().map(|c| vec![c]),
    }
}

fn line(r: &CaseResult) -> String {
    format!(
        "{:<5} {:<9} {:<4} {:<4} {:<24} {:>4} {:>5} {:>5}  err {:<10.3e} bound {:<10.3e}{}",
        if r.pass { "ok" } else { "FAIL" },
        r.op,
        r.x_dtype,
        r.w_dtype,
        r.variant,
        r.m,
        r.n,
        r.k,
        r.max_abs_err,
        r.bound,
        r.error
            .as_deref()
            .map(|e| format!("  error: {e}"))
            .unwrap_or_default()
    )
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ctxs = contexts(&args)?;
    let vectors = match &args.vectors {
        Some(p) => Some(lowbit::gguf::GgufFile::open(p)?),
        None => None,
    };
    let mut cases = Vec::new();
    let mut adapters = Vec::new();
    for ctx in &ctxs {
        let info = ctx.info();
        println!("== {} ({}, {})", info.name, info.backend, info.driver);
        let show = |r: &CaseResult| {
            if args.verbose || !r.pass {
                println!("{}", line(r));
            }
        };
        let results = match &vectors {
            Some(file) => lowbit::validate_quant::validate_vectors(ctx, file, show),
            None => validate_context(ctx, show),
        };
        let failed = results.iter().filter(|r| !r.pass).count();
        println!("   {} cases, {} failed", results.len(), failed);
        adapters.push(json!({"name": info.name, "backend": info.backend, "driver": info.driver}));
        cases.extend(results);
    }
    let failed = cases.iter().filter(|r| !r.pass).count();
    let passed = cases.len() - failed;
    if let Some(path) = &args.json {
        let doc = json!({"adapters": adapters, "cases": cases, "passed": passed, "failed": failed});
        crate::write_json(path, &doc)?;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
