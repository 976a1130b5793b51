//! `lowbit bench`: time one op with side-by-side ratios from the same run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use lowbit::bench::BenchResult;
use lowbit::bench_suite::{run_suite, Suite, SuiteFailure, SUITE_FORMATS, SUITE_SHAPES};
use lowbit::ceilings::{ceilings, Ceilings};
use lowbit::{Context, DType};

/// Arguments of `lowbit bench`.
#[derive(clap::Args)]
pub struct Args {
    /// The op to time.
    #[arg(long, default_value = "matmul")]
    op: String,
    /// Activation dtype: f32, f16, bf16 for the dense matmul (default f16); f32 (default) or
    /// f16 with `--w-format`; i8 (default), f32 or f16 for `--op ternary`.
    #[arg(long)]
    x_dtype: Option<DType>,
    /// Weight dtype of the dense matmul: f32, f16 (default), bf16.
    #[arg(long)]
    w_dtype: Option<DType>,
    /// Rows of x (tokens).
    #[arg(long, default_value_t = 1)]
    m: usize,
    /// Rows of W (output features); for `--op bessel`, the number of points.
    #[arg(long, default_value_t = 4096)]
    n: usize,
    /// Shared dimension (input features).
    #[arg(long, default_value_t = 4096)]
    k: usize,
    /// Weight format for a quantized matmul (q4_0, q4_k, … any GGUF type lowbit reads); the
    /// baseline is the dense f16 kernel on the dequantised weights. `--op ternary`: tq2_0
    /// (default) or tq1_0.
    #[arg(long)]
    w_format: Option<String>,
    /// `--op lut-matmul`: bits per weight (1–4) of the LUT weights; `--op shift`: bits per
    /// power-of-two code (2–7); `--op bcq`: sign planes (1–4). Default 2.
    #[arg(long)]
    bits: Option<u32>,
    /// `--op lmul`: mantissa bits L-Mul emulates (1–23). Default 4.
    #[arg(long)]
    mbits: Option<u32>,
    /// Kernel variant by name for the dense matmul and `--op ternary` (default: the one
    /// dispatch picks); an unknown name lists the choices.
    #[arg(long)]
    variant: Option<String>,
    /// Adapter: index, name substring, backend, or cpu (default: LOWBIT_ADAPTER, else the best).
    #[arg(long, conflicts_with = "all_adapters")]
    adapter: Option<String>,
    /// Every GPU adapter and the CPU backend, one after the other.
    #[arg(long)]
    all_adapters: bool,
    /// Run a fixed suite of weight shapes from real models instead of one op: decode
    /// (M = 1, 4), prefill (M = 16, 512) or all.
    #[arg(long)]
    suite: Option<Suite>,
    /// The suite's weight formats, comma-separated (default f16,q8_0,q4_0,q4_k,tq2_0).
    #[arg(long, value_delimiter = ',')]
    formats: Vec<String>,
    /// The suite's weight shapes as NxK, comma-separated (default 4096x4096, 4096x14336,
    /// 14336x4096, 2048x8192).
    #[arg(long, value_delimiter = ',')]
    shapes: Vec<String>,
    /// Also draw every result against its adapter's measured ceilings as an SVG roofline.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Seconds of timed runs per measurement (after one warm-up run).
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Also write the ceilings and every result as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// `--op bessel`: cpu (the f64 kernels only), gpu (the adapter's kernels, with the CPU's
    /// alongside for the ratio), or both (default).
    #[arg(long)]
    device: Option<String>,
    /// `--op bessel`: also write the points as a CSV (v,x), for benches/peers/scipy_bessel.py.
    #[arg(long)]
    dump_points: Option<PathBuf>,
}

/// `--op bessel`: CPU f64 and GPU f32/f64 evaluations/s on `--n` points.
fn run_bessel(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let device = args.device.as_deref().unwrap_or("both");
    let gpu = match (device, &args.adapter) {
        ("cpu", Some(_)) => {
            return Err(
                "--device cpu runs the CPU's f64 kernels only; it takes no --adapter".into(),
            )
        }
        ("cpu", None) => None,
        ("gpu" | "both", Some(sel)) => Some(Context::with_adapter(sel)?),
        ("gpu", None) => Some(Context::new()?),
        // Both where there is a GPU; said, not silently dropped, where there is none.
        ("both", None) => match Context::new() {
            Ok(ctx) if ctx.is_gpu() => Some(ctx),
            other => {
                let why = other
                    .err()
                    .map_or("no GPU adapter".to_string(), |e| e.to_string());
                eprintln!("lowbit: --device both: {why}; timing the CPU's f64 kernels only");
                None
            }
        },
        (other, _) => {
            return Err(format!("--device must be cpu, gpu or both, not '{other}'").into())
        }
    };
    if device == "gpu" && !gpu.as_ref().is_some_and(|c| c.is_gpu()) {
        return Err("--device gpu: no GPU adapter was found".into());
    }
    if args.adapter.is_some() && gpu.as_ref().is_some_and(|c| !c.is_gpu()) {
        return Err("--op bessel: --adapter names the GPU to run beside the CPU's f64 kernels; for the CPU alone, --device cpu".into());
    }
    let r = lowbit::bench_bessel::bench_bessel(
        gpu.as_ref(),
        args.n,
        Duration::from_secs_f64(args.seconds),
    )?;
    println!(
        "op        bessel, {} points like the reference file, CPU on {} threads",
        r.n, r.cpu_threads
    );
    let base = r.rates.first().map_or(1.0, |b| b.points_per_s);
    for rate in &r.rates {
        println!(
            "{:26} {:>11.3e} points/s  ({:.2}x cpu log I)  {} [{}]",
            rate.path,
            rate.points_per_s,
            rate.points_per_s / base,
            rate.device,
            rate.timing
        );
    }
    if let Some(path) = &args.dump_points {
        let (v, x) = lowbit::kernels::bessel::mixture(args.n, 1);
        let mut text = String::from("v,x\n");
        for (v, x) in v.iter().zip(&x) {
            text.push_str(&format!("{v:?},{x:?}\n"));
        }
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.json {
        crate::write_json(path, &serde_json::to_value(&r)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One op on `ctx` as the flags describe it.
fn one(
    ctx: &Context,
    args: &Args,
    budget: Duration,
) -> Result<BenchResult, Box<dyn std::error::Error>> {
    let shape = (args.m, args.n, args.k);
    let bits = args.bits.unwrap_or(2);
    Ok(if args.op == "bcq" {
        lowbit::bench_bcq::bench_bcq(ctx, bits as usize, shape, budget)?
    } else if args.op == "ternary" {
        let fmt = args.w_format.as_deref().unwrap_or("tq2_0");
        let ty = lowbit::kernels::formats::QuantType::from_name(fmt)
            .ok_or_else(|| format!("unknown --w-format '{fmt}'"))?;
        let x_dtype = args.x_dtype.unwrap_or(DType::I8);
        let variant = args.variant.as_deref();
        lowbit::bench_ternary::bench_ternary(ctx, ty, x_dtype, shape, variant, budget)?
    } else if args.op == "shift" {
        lowbit::bench_shift::bench_shift(ctx, bits, shape, budget)?
    } else if args.op == "lmul" {
        lowbit::bench_lmul::bench_lmul(ctx, args.mbits.unwrap_or(4), shape, budget)?
    } else if args.op == "lut-matmul" {
        lowbit::bench_lut::bench_lut_matmul(ctx, bits, shape, budget)?
    } else if let Some(fmt) = &args.w_format {
        let ty = lowbit::kernels::formats::QuantType::from_name(fmt)
            .ok_or_else(|| format!("unknown --w-format '{fmt}'"))?;
        let x_dtype = args.x_dtype.unwrap_or(DType::F32);
        lowbit::bench_quant::bench_quant_matmul(ctx, ty, x_dtype, shape, budget)?
    } else {
        lowbit::bench::bench_matmul(
            ctx,
            args.x_dtype.unwrap_or(DType::F16),
            args.w_dtype.unwrap_or(DType::F16),
            shape,
            args.variant.as_deref(),
            budget,
        )?
    })
}

/// An error naming the first op-specific flag given that the op (or the suite) does not
/// take, so that no flag is silently ignored.
fn check_op_flags(args: &Args) -> Result<(), String> {
    let op = args.op.as_str();
    let quant = op == "matmul" && args.w_format.is_some();
    let what = match (&args.suite, quant) {
        (Some(_), _) if op != "bessel" => "--suite".to_string(),
        (_, true) => "--op matmul with --w-format".to_string(),
        _ => format!("--op {op}"),
    };
    let suite = args.suite.is_some();
    let given = [
        (
            "--x-dtype",
            args.x_dtype.is_some(),
            !suite && ["matmul", "ternary"].contains(&op),
        ),
        (
            "--w-dtype",
            args.w_dtype.is_some(),
            !suite && op == "matmul" && !quant,
        ),
        (
            "--w-format",
            args.w_format.is_some(),
            !suite && ["matmul", "ternary"].contains(&op),
        ),
        (
            "--bits",
            args.bits.is_some(),
            !suite && ["lut-matmul", "shift", "bcq"].contains(&op),
        ),
        ("--mbits", args.mbits.is_some(), !suite && op == "lmul"),
        (
            "--variant",
            args.variant.is_some(),
            !suite && (op == "ternary" || (op == "matmul" && !quant)),
        ),
        ("--device", args.device.is_some(), op == "bessel"),
        ("--dump-points", args.dump_points.is_some(), op == "bessel"),
        ("--svg", args.svg.is_some(), op != "bessel"),
        ("--all-adapters", args.all_adapters, op != "bessel"),
        ("--suite", suite, op != "bessel"),
    ];
    match given.iter().find(|(_, given, taken)| *given && !taken) {
        Some((flag, ..)) => Err(format!("{what} does not take {flag}")),
        None => Ok(()),
    }
}

fn print_ceilings(c: &Ceilings) {
    println!(
        "ceilings  {} ({}): read {:.2} GB/s, copy {:.2} GB/s, f32 {:.2} GFLOP/s, f16 {}, int8 {} [{}]",
        c.adapter,
        c.backend,
        c.read_gbps,
        c.copy_gbps,
        c.f32_gflops,
        c.f16_gflops
            .map_or("-".to_string(), |g| format!("{g:.2} GFLOP/s")),
        c.int8_gops.map_or("-".to_string(), |g| format!("{g:.2} GOP/s")),
        c.timing
    );
}

fn print_detail(r: &BenchResult) {
    println!("adapter   {} ({}, {})", r.adapter, r.backend, r.driver);
    println!(
        "op        {} x {} w {} M={} N={} K={}  variant {}",
        r.op, r.x_dtype, r.w_dtype, r.m, r.n, r.k, r.variant
    );
    println!(
        "time      {:.3} ms median, {:.3}–{:.3} over {} runs ({})",
        r.time_ms, r.min_ms, r.max_ms, r.runs, r.timing
    );
    println!("rate      {:.2} GFLOP/s, {:.2} GB/s", r.gflops, r.gbps);
    println!(
        "roofline  {:.2} op/B; {}-bound: attainable {:.2} GFLOP/s (read {:.2} GB/s over W's bytes, {} {:.2}): {:.2} of bound",
        r.roofline.intensity,
        r.roofline.bound,
        r.roofline.attainable_gflops,
        r.bound_gbps,
        r.roofline.compute,
        r.roofline.compute_gflops,
        r.fraction_of_bound
    );
    for b in &r.baselines {
        println!(
            "baseline  {}: {:.3} ms, speedup {:.2}x",
            b.name, b.time_ms, b.speedup
        );
    }
}

const ROW_HEADER: &str = "adapter            backend format        variant                    M     N     K   time ms (min–max)        GFLOP/s    GB/s  bound     frac  baseline";

fn print_row(r: &BenchResult) {
    let base = r.baselines.last().map_or(String::new(), |b| {
        format!("{:.2}x vs {}", b.speedup, b.name)
    });
    println!(
        "{:<18} {:<7} {:<13} {:<24} {:>5} {:>5} {:>5} {:>9.3} ({:.3}–{:.3}) {:>9.2} {:>7.2}  {:<8} {:>5.2}  {}",
        r.adapter.chars().take(18).collect::<String>(),
        r.backend,
        r.w_dtype,
        r.variant.chars().take(24).collect::<String>(),
        r.m,
        r.n,
        r.k,
        r.time_ms,
        r.min_ms,
        r.max_ms,
        r.gflops,
        r.gbps,
        r.roofline.bound,
        r.fraction_of_bound,
        base
    );
}

fn parse_shapes(list: &[String]) -> Result<Vec<(usize, usize)>, String> {
    if list.is_empty() {
        return Ok(SUITE_SHAPES.to_vec());
    }
    list.iter()
        .map(|s| {
            let (n, k) = s
                .split_once(['x', 'X', '×'])
                .ok_or_else(|| format!("--shapes: '{s}' is not NxK"))?;
            let parse = |v: &str| v.trim().parse::<usize>().ok().filter(|&v| v > 0);
            match (parse(n), parse(k)) {
                (Some(n), Some(k)) => Ok((n, k)),
                _ => Err(format!("--shapes: '{s}' is not NxK with N, K ≥ 1")),
            }
        })
        .collect()
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let ops = [
        "matmul",
        "lut-matmul",
        "lmul",
        "shift",
        "ternary",
        "bcq",
        "bessel",
    ];
    if !ops.contains(&args.op.as_str()) {
        return Err(format!(
            "unknown op '{}' (this build benches: {})",
            args.op,
            ops.join(", ")
        )
        .into());
    }
    check_op_flags(&args)?;
    if !args.seconds.is_finite() || args.seconds <= 0.0 {
        return Err("--seconds must be positive".into());
    }
    if args.op == "bessel" {
        if args.n == 0 {
            return Err("--n (points) must be at least 1".into());
        }
        return run_bessel(&args);
    }
    let bits = args.bits.unwrap_or(2);
    if args.op == "lut-matmul" && !(1..=4).contains(&bits) {
        return Err(format!("--bits must be 1 to 4, not {bits}").into());
    }
    if args.m == 0 || args.n == 0 || args.k == 0 {
        return Err("--m, --n and --k must be at least 1".into());
    }
    if args.op == "shift" && !(2..=7).contains(&bits) {
        return Err(format!("--op shift: --bits must be 2 to 7, not {bits}").into());
    }
    if args.op == "bcq" && !(1..=4).contains(&bits) {
        return Err(format!("--op bcq: --bits (sign planes) must be 1 to 4, not {bits}").into());
    }
    if args.suite.is_none() && !(args.formats.is_empty() && args.shapes.is_empty()) {
        return Err("--formats and --shapes go with --suite".into());
    }
    let shapes = parse_shapes(&args.shapes)?;
    let formats: Vec<String> = if args.formats.is_empty() {
        SUITE_FORMATS.iter().map(|s| s.to_string()).collect()
    } else {
        args.formats.clone()
    };
    let ctxs = crate::contexts(args.adapter.as_deref(), args.all_adapters)?;
    let budget = Duration::from_secs_f64(args.seconds);
    let mut all_ceilings = Vec::new();
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for ctx in &ctxs {
        let info = ctx.info();
        println!("== {} ({}, {})", info.name, info.backend, info.driver);
        let c = ceilings(ctx, budget.min(Duration::from_millis(500)))?;
        print_ceilings(&c);
        all_ceilings.push(c);
        match args.suite {
            Some(suite) => {
                println!("{ROW_HEADER}");
                let show = |r: Result<&BenchResult, &SuiteFailure>| match r {
                    Ok(r) => print_row(r),
                    Err(f) => println!(
                        "{:<18} {:<7} {:<13} FAILED at M={} N={} K={}: {}",
                        ctx.info().name.chars().take(18).collect::<String>(),
                        ctx.info().backend,
                        f.format,
                        f.shape.0,
                        f.shape.1,
                        f.shape.2,
                        f.error
                    ),
                };
                let (done, failed) = run_suite(ctx, suite, &shapes, &formats, budget, show)?;
                results.extend(done);
                failures.extend(failed);
            }
            None => {
                let r = one(ctx, &args, budget)?;
                print_detail(&r);
                results.push(r);
            }
        }
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "ceilings": all_ceilings,
            "results": results,
            "failures": failures,
        });
        crate::write_json(path, &doc)?;
    }
    if let Some(path) = &args.svg {
        lowbit::roofline_svg::write_roofline_svg(path, &all_ceilings, &results)?;
    }
    if !failures.is_empty() {
        eprintln!("lowbit: {} suite entries failed", failures.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
