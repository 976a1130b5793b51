//! `lowbit bessel`: log I_v(x) and log K_v(x) for every row of a CSV file.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use lowbit::ops::{log_bessel_ik, BesselPrecision, LogBessel};
use lowbit::Context;

/// Arguments of `lowbit bessel`.
#[derive(clap::Args)]
pub struct Args {
    /// CSV with a header naming columns `v` and `x` (others are ignored, any order).
    #[arg(long)]
    input: PathBuf,
    /// Output CSV: `v,x,log_iv,log_kv`, every float printed so that it round-trips.
    #[arg(long)]
    output: PathBuf,
    /// cpu (f64 kernels) or gpu (the adapter chosen by --adapter / LOWBIT_ADAPTER / the best).
    /// Default: gpu, or the CPU when `--adapter cpu` names it.
    #[arg(long)]
    device: Option<String>,
    /// Adapter: index, name substring, backend, or cpu.
    #[arg(long)]
    adapter: Option<String>,
    /// GPU arithmetic: f32 or f64 (default: f64 where the adapter has shader-f64). The CPU
    /// always computes in f64.
    #[arg(long)]
    precision: Option<String>,
}

/// Points per progress step.
const STEP: usize = 1 << 16;

/// Parses the input: `(v, x)` columns, every row checked, errors naming the line.
fn read_points(path: &PathBuf) -> Result<(Vec<f64>, Vec<f64>), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| format!("{}: empty file (no header)", path.display()))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| {
        names
            .iter()
            .position(|&c| c == name)
            .ok_or_else(|| format!("{}: header has no column '{name}'", path.display()))
    };
    let (cv, cx) = (col("v")?, col("x")?);
    let (mut v, mut x) = (Vec::new(), Vec::new());
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let line_no = i + 1;
        let get = |c: usize, name: &str| -> Result<f64, String> {
            let s = fields
                .get(c)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("line {line_no}: missing {name}"))?;
            let val: f64 = s
                .parse()
                .map_err(|_| format!("line {line_no}: {name} = '{s}' is not a number"))?;
            if !val.is_finite() {
                return Err(format!("line {line_no}: {name} = '{s}' is not finite"));
            }
            if val < 0.0 {
                return Err(format!("line {line_no}: {name} = {s} is negative"));
            }
            Ok(val)
        };
        v.push(get(cv, "v")?);
        x.push(get(cx, "x")?);
    }
    Ok((v, x))
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (v, x) = read_points(&args.input)?;
    let ctx = match (args.device.as_deref(), &args.adapter) {
        (Some("cpu"), Some(_)) => {
            return Err("--device cpu takes no --adapter (the CPU's f64 kernels run)".into())
        }
        (Some("cpu"), None) => Context::cpu(),
        (Some("gpu") | None, Some(sel)) => Context::with_adapter(sel)?,
        (Some("gpu") | None, None) => Context::new()?,
        (Some(other), _) => {
            return Err(format!("--device must be cpu or gpu, not '{other}'").into())
        }
    };
    if !ctx.is_gpu() && args.device.as_deref() == Some("gpu") {
        return Err("--device gpu: the adapter chosen is the CPU (use --device cpu)".into());
    }
    if !ctx.is_gpu() && args.adapter.is_none() && args.device.is_none() {
        return Err("no GPU adapter was found (use --device cpu)".into());
    }
    if !ctx.is_gpu() && args.precision.is_some() {
        return Err("--precision is for GPU adapters: the CPU always computes in f64".into());
    }
    let precision = match args.precision.as_deref() {
        Some("f32") => BesselPrecision::F32,
        Some("f64") => BesselPrecision::F64,
        None if ctx.is_gpu() && !ctx.caps().f64 => BesselPrecision::F32,
        None => BesselPrecision::F64,
        Some(p) => return Err(format!("--precision must be f32 or f64, not '{p}'").into()),
    };
    let n = v.len();
    let progress = std::io::stderr().is_terminal() && n > 4 * STEP;
    let mut out = LogBessel {
        log_i: Vec::with_capacity(n),
        log_k: Vec::with_capacity(n),
    };
    let start = Instant::now();
    for s in (0..n).step_by(STEP) {
        let e = (s + STEP).min(n);
        let part = log_bessel_ik(&ctx, &v[s..e], &x[s..e], precision)?;
        out.log_i.extend(part.log_i);
        out.log_k.extend(part.log_k);
        if progress {
            let done = e * 40 / n;
            eprint!("\r[{}{}] {e}/{n}", "#".repeat(done), " ".repeat(40 - done));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if progress {
        eprintln!();
    }
    let used = if ctx.is_gpu() {
        precision.name()
    } else {
        "f64"
    };
    eprintln!(
        "{n} points on {} ({used}) in {secs:.3} s: {:.3e} evaluations/s (log I and log K per point; file I/O excluded)",
        ctx.info().name,
        n as f64 / secs.max(1e-12)
    );
    // Everything is computed before the file is created, so an error leaves nothing behind.
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&args.output)
            .map_err(|e| format!("creating {}: {e}", args.output.display()))?,
    );
    writeln!(w, "v,x,log_iv,log_kv")?;
    for i in 0..n {
        writeln!(
            w,
            "{:?},{:?},{:?},{:?}",
            v[i], x[i], out.log_i[i], out.log_k[i]
        )?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
