//! `lowbit bench`: time one op with side-by-side ratios from the same run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lowbit::{Context, DType};

/// Arguments of `lowbit bench`.
#[derive(clap::Args)]
pub struct Args {
    /// The op to time.
    #[arg(long, default_value = "matmul")]
    op: String,
    /// Activation dtype: f32, f16, bf16.
    #[arg(long, default_value = "f16")]
    x_dtype: DType,
    /// Weight dtype: f32, f16, bf16.
    #[arg(long, default_value = "f16")]
    w_dtype: DType,
    /// Rows of x (tokens).
    #[arg(long, default_value_t = 1)]
    m: usize,
    /// Rows of W (output features).
    #[arg(long, default_value_t = 4096)]
    n: usize,
    /// Shared dimension (input features).
    #[arg(long, default_value_t = 4096)]
    k: usize,
    /// Kernel variant by name (default: the one dispatch picks); an unknown name lists the choices.
    #[arg(long)]
    variant: Option<String>,
    /// Adapter: index, name substring, backend, or cpu (default: LOWBIT_ADAPTER, else the best).
    #[arg(long)]
    adapter: Option<String>,
    /// Seconds of timed runs per measurement (after one warm-up run).
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Also write the result as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if args.op != "matmul" {
        return Err(format!("unknown op '{}' (this build benches: matmul)", args.op).into());
    }
    if args.m == 0 || args.n == 0 || args.k == 0 {
        return Err("--m, --n and --k must be at least 1".into());
    }
    if !args.seconds.is_finite() || args.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    let ctx = match &args.adapter {
        Some(sel) => Context::with_adapter(sel)?,
        None => Context::new()?,
    };
    let r = lowbit::bench::bench_matmul(
        &ctx,
        args.x_dtype,
        args.w_dtype,
        (args.m, args.n, args.k),
        args.variant.as_deref(),
        Duration::from_secs_f64(args.seconds),
    )?;
    println!("adapter   {} ({}, {})", r.adapter, r.backend, r.driver);
    println!(
        "op        matmul x {} w {} M={} N={} K={}  variant {}",
        r.x_dtype, r.w_dtype, r.m, r.n, r.k, r.variant
    );
    println!("time      {:.3} ms ({})", r.time_ms, r.timing);
    println!("rate      {:.2} GFLOP/s, {:.2} GB/s", r.gflops, r.gbps);
    println!(
        "bound     {:.2} GB/s streaming read on this adapter ({}, {}): {:.2} of bound",
        r.bound_gbps, r.bound_layout, r.bound_timing, r.fraction_of_bound
    );
    for b in &r.baselines {
        println!(
            "baseline  {}: {:.3} ms, speedup {:.2}x",
            b.name, b.time_ms, b.speedup
        );
    }
    if let Some(path) = &args.json {
        crate::write_json(path, &serde_json::to_value(&r)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
