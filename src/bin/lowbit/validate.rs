//! `lowbit validate`: every op and variant against the CPU reference, on one adapter or all.

use std::path::PathBuf;
use std::process::ExitCode;

use lowbit::probes::{run_probes, ProbeResult};
use lowbit::report::{AdapterReport, Report};
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
    /// instead of the built-in cases: per case, the decode bit-exact and each matmul path (the
    /// exact decoders, the int8 route) within its own bound.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Print every case, not only failures and a summary per adapter.
    #[arg(long, short)]
    verbose: bool,
    /// Run only the pitfall probes (f16 overflow, tanh, subnormals, fma, signed ops, dot4,
    /// subgroup size, workgroup zeroing, out-of-bounds reads) and print what each adapter did.
    #[arg(long, conflicts_with_all = ["vectors", "json", "verbose"])]
    probes: bool,
    /// Write a report to compare with another machine's (`lowbit compare`): every adapter's
    /// features, limits and probe results, every case with its errors and, for bit-exact ops,
    /// a hash of the output.
    #[arg(long, conflicts_with = "probes")]
    report: Option<PathBuf>,
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

fn print_probes(probes: &[ProbeResult]) {
    for p in probes {
        let mark = match p.strict {
            Some(true) => "strict",
            Some(false) => "DIFFERS",
            None => "n/a",
        };
        println!("{:<8} {:<20} {}", mark, p.probe, p.observed);
        if !p.detail.is_empty() {
            println!("{:<29} {}", "", p.detail);
        }
        println!("{:<29} WGSL: {}", "", p.wgsl);
    }
}

fn probes_only(ctxs: &[Context]) -> ExitCode {
    for ctx in ctxs {
        let info = ctx.info();
        println!("== {} ({}, {})", info.name, info.backend, info.driver);
        print_probes(&run_probes(ctx));
    }
    ExitCode::SUCCESS
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ctxs = crate::contexts(args.adapter.as_deref(), args.all_adapters)?;
    if args.probes {
        return Ok(probes_only(&ctxs));
    }
    let vectors = match &args.vectors {
        Some(p) => Some(lowbit::gguf::GgufFile::open(p)?),
        None => None,
    };
    let mut cases = Vec::new();
    let mut adapters = Vec::new();
    let mut described = Vec::new();
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
        if let (Some(path), true) = (&args.vectors, results.is_empty()) {
            return Err(format!(
                "{}: no test-vector cases (a testvec.cases list, or <case>.weight tensors with <case>.x and <case>.dequant beside them)",
                path.display()
            )
            .into());
        }
        let failed = results.iter().filter(|r| !r.pass).count();
        println!("   {} cases, {} failed", results.len(), failed);
        adapters.push(json!({"name": info.name, "backend": info.backend, "driver": info.driver}));
        if args.report.is_some() {
            let probes = run_probes(ctx);
            if args.verbose {
                print_probes(&probes);
            }
            described.push(AdapterReport::of(ctx, probes));
        }
        cases.extend(results);
    }
    let failed = cases.iter().filter(|r| !r.pass).count();
    let passed = cases.len() - failed;
    if let Some(path) = &args.json {
        let doc = json!({"adapters": adapters, "cases": cases, "passed": passed, "failed": failed});
        crate::write_json(path, &doc)?;
    }
    if let Some(path) = &args.report {
        let report = Report::new(described, cases.clone());
        crate::write_json(path, &serde_json::to_value(&report)?)?;
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
