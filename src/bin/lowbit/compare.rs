//! `lowbit compare A.json B.json`: where two adapters of two `validate --report` files differ.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lowbit::report::{compare, Report};

/// Arguments of `lowbit compare`.
#[derive(clap::Args)]
pub struct Args {
    /// The first report (`lowbit validate --report`).
    left: PathBuf,
    /// The second report (may be the same file, with --left/--right naming two adapters).
    right: PathBuf,
    /// The adapter of the first report: a name substring or backend (default: its first).
    #[arg(long = "left")]
    left_adapter: Option<String>,
    /// The adapter of the second report (default: its first).
    #[arg(long = "right")]
    right_adapter: Option<String>,
}

fn load(path: &Path) -> Result<Report, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a `lowbit validate --report` file: {e}",
            path.display()
        )
    })
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (left, right) = (load(&args.left)?, load(&args.right)?);
    let pick = |r: &'_ Report, sel: &Option<String>, path: &Path| {
        r.adapter(sel.as_deref()).cloned().ok_or_else(|| {
            format!(
                "{} has no adapter matching {:?} (it has: {})",
                path.display(),
                sel.as_deref().unwrap_or("any"),
                r.adapters
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    };
    let l = pick(&left, &args.left_adapter, &args.left)?;
    let r = pick(&right, &args.right_adapter, &args.right)?;
    println!(
        "left:  {} ({}, {}) — lowbit {}",
        l.name, l.backend, l.driver, left.lowbit_version
    );
    println!(
        "right: {} ({}, {}) — lowbit {}",
        r.name, r.backend, r.driver, right.lowbit_version
    );
    let diffs = compare(&left, &l, &right, &r);
    for d in &diffs {
        println!("- {d}");
    }
    println!("{} differences", diffs.len());
    Ok(ExitCode::SUCCESS)
}
