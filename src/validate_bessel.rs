//! The log-Bessel and vMF part of `lowbit validate`: the Arb-certified reference file (built
//! into the library) on every precision the context runs, and the vMF kernels against the f64
//! CPU kernels, with the limits as bounds.

use lowbit_kernels::bessel::{log_iv, vmf as kv};

use crate::context::Context;
use crate::ops::{log_bessel_ik, vmf_kappa_mle, vmf_values, BesselPrecision};
use crate::validate::CaseResult;

/// `tests/data/logbessel_reference.csv`: 3000 rows `v,x,log_iv,log_kv`, every value the
/// correctly rounded f64 (certified with Arb).
const REFERENCE_CSV: &str = include_str!("../tests/data/logbessel_reference.csv");

/// The reference rows as columns.
#[derive(Clone, Debug, Default)]
pub struct BesselReference {
    /// Orders.
    pub v: Vec<f64>,
    /// Arguments.
    pub x: Vec<f64>,
    /// `log I_v(x)`.
    pub log_i: Vec<f64>,
    /// `log K_v(x)`.
    pub log_k: Vec<f64>,
}

/// The 3000 Arb-certified reference rows (v from 0 to 1e5, x from 1e-8 to 1e5).
pub fn reference() -> BesselReference {
    let mut r = BesselReference::default();
    for line in REFERENCE_CSV.lines().skip(1) {
        let mut f = line
            .split(',')
            .map(|s| s.parse::<f64>().expect("reference field"));
        let mut next = || f.next().expect("reference column");
        r.v.push(next());
        r.x.push(next());
        r.log_i.push(next());
        r.log_k.push(next());
    }
    r
}

/// `|got − want| / max(|want|, 1)`.
pub fn mixed_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

/// Largest mixed error a path may show on the reference file: CPU f64 1e-14, GPU f64 1e-13,
/// GPU f32 2e-6.
pub fn reference_bound(ctx: &Context, precision: BesselPrecision) -> f64 {
    match (ctx.is_gpu(), precision) {
        (false, _) => 1e-14,
        (true, BesselPrecision::F64) => 1e-13,
        (true, BesselPrecision::F32) => 2e-6,
    }
}

/// The precisions `ctx` runs (the CPU: f64 only; GPUs: f32, and f64 with shader-f64).
pub fn precisions(ctx: &Context) -> Vec<BesselPrecision> {
    if !ctx.is_gpu() {
        vec![BesselPrecision::F64]
    } else if ctx.caps().f64 {
        vec![BesselPrecision::F32, BesselPrecision::F64]
    } else {
        vec![BesselPrecision::F32]
    }
}

fn case(
    ctx: &Context,
    op: &str,
    precision: BesselPrecision,
    variant: &str,
    n: usize,
) -> CaseResult {
    CaseResult::new(ctx, op, "f64", precision.name(), variant, (1, n, 0))
}

/// One case per precision: every reference row finite and within [`reference_bound`].
fn reference_cases(ctx: &Context, out: &mut Vec<CaseResult>) {
    let r = reference();
    for precision in precisions(ctx) {
        let mut c = case(ctx, "log_bessel", precision, "reference-3000", r.v.len());
        c.bound = reference_bound(ctx, precision);
        match log_bessel_ik(ctx, &r.v, &r.x, precision) {
            Ok(got) => {
                let mut worst: f64 = 0.0;
                let mut finite = true;
                for i in 0..r.v.len() {
                    finite &= got.log_i[i].is_finite() && got.log_k[i].is_finite();
                    worst = worst
                        .max(mixed_error(got.log_i[i], r.log_i[i]))
                        .max(mixed_error(got.log_k[i], r.log_k[i]));
                }
                c.max_abs_err = if finite { worst } else { f64::INFINITY };
                c.pass = finite && worst <= c.bound;
            }
            Err(e) => c.error = Some(e.to_string()),
        }
        out.push(c);
    }
}

/// vMF values and κ̂ on a grid of p (2 … 1e5) and κ (1e-3 … 1e6), against the f64 kernels at
/// the inputs the kernel sees; the error is relative to the sum of the magnitudes of the terms
/// of log C (what its rounding scales with), and to A and κ̂ themselves.
fn vmf_cases(ctx: &Context, out: &mut Vec<CaseResult>) {
    let ps = [2.0, 3.0, 10.0, 2048.0, 8192.0, 32768.0, 1e5];
    let kappas = [1e-3, 0.5, 10.0, 500.0, 2000.0, 1e4, 4e4, 1e6];
    let (p, kappa): (Vec<f64>, Vec<f64>) = ps
        .iter()
        .flat_map(|&p| kappas.iter().map(move |&k| (p, k)))
        .unzip();
    for precision in precisions(ctx) {
        let (unit, seen): (f64, fn(f64) -> f64) = match precision {
            BesselPrecision::F32 => (2f64.powi(-24), |a| f64::from(a as f32)),
            BesselPrecision::F64 => (2f64.powi(-53), |a| a),
        };
        let mut c = case(ctx, "vmf", precision, "values+kappa_mle", p.len());
        // In units of the precision's unit round-off: a few per term and per CF step.
        c.bound = 256.0 * unit;
        let run = || -> crate::Result<f64> {
            let got = vmf_values(ctx, &p, &kappa, precision)?;
            let rbar: Vec<f64> = p
                .iter()
                .zip(&kappa)
                .map(|(&p, &k)| kv::mean_resultant_length(p, k))
                .collect();
            let fit = vmf_kappa_mle(ctx, &p, &rbar, precision)?;
            let mut worst: f64 = 0.0;
            for i in 0..p.len() {
                let k = seen(kappa[i]);
                let nu = p[i] / 2.0 - 1.0;
                let terms = (nu * k.ln()).abs() + p[i] + log_iv(nu, k).abs() + 1.0;
                let e_c = (got.log_normalizer[i] - kv::log_normalizer(p[i], k)).abs() / terms;
                let want_a = kv::mean_resultant_length(p[i], k);
                let e_a = (got.mean_resultant_length[i] - want_a).abs() / want_a;
                let r = seen(rbar[i]);
                let want_k = kv::kappa_mle(p[i], r);
                let slope = 1.0 - r * r - (p[i] - 1.0) / want_k * r;
                let cond = (r / (want_k * slope)).abs().max(1.0);
                let e_k = ((fit[i] - want_k) / want_k).abs() / cond;
                let e = e_c.max(e_a).max(e_k);
                worst = if e.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(e)
                };
            }
            Ok(worst)
        };
        match run() {
            Ok(worst) => {
                c.max_abs_err = worst;
                c.pass = worst <= c.bound;
            }
            Err(e) => c.error = Some(e.to_string()),
        }
        out.push(c);
    }
}

/// Every log-Bessel and vMF case on `ctx`.
pub fn bessel_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut out = Vec::new();
    reference_cases(ctx, &mut out);
    vmf_cases(ctx, &mut out);
    out
}
