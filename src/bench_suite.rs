//! `lowbit bench --suite`: a fixed list of weight shapes from real models (Llama-style 4096²
//! attention, 4096×14336 and 14336×4096 MLP projections, a 2048×8192 small model) at decode
//! (M = 1, 4) and prefill (M = 16, 512) batch sizes, for each weight format asked, on one
//! adapter. Each entry is an ordinary [`BenchResult`] with its baselines and roofline.

use std::time::Duration;

use lowbit_kernels::formats::QuantType;
use lowbit_kernels::DType;

use crate::bench::{bench_matmul, BenchResult};
use crate::bench_quant::bench_quant_matmul;
use crate::bench_ternary::bench_ternary;
use crate::context::Context;
use crate::error::{Error, Result};

/// Weight shapes `(N, K)` of the suite.
pub const SUITE_SHAPES: &[(usize, usize)] =
    &[(4096, 4096), (4096, 14336), (14336, 4096), (2048, 8192)];

/// Weight formats a suite runs when none are named: dense f16, two GGUF block formats, a
/// K-quant and ternary.
pub const SUITE_FORMATS: &[&str] = &["f16", "q8_0", "q4_0", "q4_k", "tq2_0"];

/// Which batch sizes a suite covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// M = 1 and 4: token-by-token generation.
    Decode,
    /// M = 16 and 512: prompt processing.
    Prefill,
    /// Both.
    All,
}

impl std::str::FromStr for Suite {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "decode" => Ok(Suite::Decode),
            "prefill" => Ok(Suite::Prefill),
            "all" => Ok(Suite::All),
            other => Err(Error::InvalidArgument(format!(
                "unknown suite '{other}' (decode, prefill, all)"
            ))),
        }
    }
}

impl Suite {
    /// Its token counts M.
    pub fn ms(self) -> &'static [usize] {
        match self {
            Suite::Decode => &[1, 4],
            Suite::Prefill => &[16, 512],
            Suite::All => &[1, 4, 16, 512],
        }
    }
}

/// Benches one weight `format` at `(m, n, k)`: `f32`/`f16`/`bf16` through the dense kernel
/// (x of the same dtype), `tq1_0`/`tq2_0` through the ternary kernel (int8 x), any other GGUF
/// type through the fused quantized matmul (f32 x).
pub fn bench_format(
    ctx: &Context,
    format: &str,
    shape: (usize, usize, usize),
    budget: Duration,
) -> Result<BenchResult> {
    match parse_format(format)? {
        Format::Dense(dt) => bench_matmul(ctx, dt, dt, shape, None, budget),
        Format::Quant(ty @ (QuantType::TQ1_0 | QuantType::TQ2_0)) => {
            bench_ternary(ctx, ty, DType::I8, shape, None, budget)
        }
        Format::Quant(ty) => bench_quant_matmul(ctx, ty, DType::F32, shape, budget),
    }
}

enum Format {
    Dense(DType),
    Quant(QuantType),
}

fn parse_format(format: &str) -> Result<Format> {
    if let Ok(dt @ (DType::F32 | DType::F16 | DType::BF16)) = format.parse::<DType>() {
        return Ok(Format::Dense(dt));
    }
    QuantType::from_name(format)
        .map(Format::Quant)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unknown weight format '{format}' (f32, f16, bf16, or a GGUF type such as q4_0)"
            ))
        })
}

/// A suite entry that could not run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SuiteFailure {
    /// Weight format.
    pub format: String,
    /// (M, N, K).
    pub shape: (usize, usize, usize),
    /// Why.
    pub error: String,
}

/// Every shape `(N, K)` × M of `suite` × format on `ctx`, calling `each` as entries finish; an
/// entry that fails (a shape past the adapter's limits, say) is reported and the suite goes
/// on. A format name that does not exist is an error before anything runs.
pub fn run_suite(
    ctx: &Context,
    suite: Suite,
    shapes: &[(usize, usize)],
    formats: &[String],
    budget: Duration,
    mut each: impl FnMut(std::result::Result<&BenchResult, &SuiteFailure>),
) -> Result<(Vec<BenchResult>, Vec<SuiteFailure>)> {
    for f in formats {
        parse_format(f)?;
    }
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for &(n, k) in shapes {
        for &m in suite.ms() {
            for f in formats {
                match bench_format(ctx, f, (m, n, k), budget) {
                    Ok(r) => {
                        each(Ok(&r));
                        done.push(r);
                    }
                    Err(e) => {
                        let fail = SuiteFailure {
                            format: f.clone(),
                            shape: (m, n, k),
                            error: e.to_string(),
                        };
                        each(Err(&fail));
                        failed.push(fail);
                    }
                }
            }
        }
    }
    Ok((done, failed))
}
