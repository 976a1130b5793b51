//! The `lowbit` command: `info`, `validate`, `compare`, `bench`, `tune`, `bessel`. Parses arguments and calls the library.

mod bench;
mod bessel;
mod compare;
mod info;
mod tune;
mod validate;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lowbit",
    version,
    about = "GPU inference kernels: adapters, validation, benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter (index, name, backend, type, driver, limits, features) and the CPU.
    Info(info::Args),
    /// Check every op and variant against the CPU reference; exits non-zero on any failure.
    Validate(validate::Args),
    /// Where two adapters of two `validate --report` files differ.
    Compare(compare::Args),
    /// Search the dense matmul's workgroup parameters per adapter and cache what beats the defaults.
    Tune(tune::Args),
    /// Time one op, with ratios to a baseline and to the measured read-bandwidth bound.
    Bench(bench::Args),
    /// log I_v(x) and log K_v(x) for every row of a CSV (columns v, x), to a CSV.
    Bessel(bessel::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(a) => info::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Bessel(a) => bessel::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lowbit: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes pretty JSON to `path`.
fn write_json(
    path: &std::path::Path,
    value: &serde_json::Value,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .map_err(|e| format!("writing {}: {e}", path.display()).into())
}

/// The contexts a command runs on: every GPU adapter and the CPU (`--all-adapters`), the one
/// `--adapter` names, or the default (LOWBIT_ADAPTER, else the best GPU).
fn contexts(adapter: Option<&str>, all: bool) -> Result<Vec<lowbit::Context>, lowbit::Error> {
    use lowbit::Context;
    if all {
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
    match adapter {
        Some(sel) => Context::with_adapter(sel).map(|c| vec![c]),
        None => Context::new().map(|c| vec![c]),
    }
}
