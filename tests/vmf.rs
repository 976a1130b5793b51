//! von Mises–Fisher ops on every backend against the f64 CPU kernels (themselves checked
//! against mpmath and by sampling in `kernels/tests/bessel_vmf.rs`).

mod common;

use lowbit::ops::{vmf_kappa_mle, vmf_values, BesselPrecision};
use lowbit_kernels::bessel::{log_iv, vmf as kv};

const PS: [f64; 7] = [2.0, 3.0, 10.0, 2048.0, 8192.0, 32768.0, 1e5];
const KAPPAS: [f64; 8] = [1e-3, 0.5, 10.0, 500.0, 2000.0, 1e4, 4e4, 1e6];

fn grid() -> (Vec<f64>, Vec<f64>) {
    PS.iter()
        .flat_map(|&p| KAPPAS.iter().map(move |&k| (p, k)))
        .unzip()
}

/// The input the kernel of `precision` actually sees.
fn seen(a: f64, precision: BesselPrecision) -> f64 {
    match precision {
        BesselPrecision::F32 => f64::from(a as f32),
        BesselPrecision::F64 => a,
    }
}

#[test]
fn values_and_mle_match_the_f64_kernels_on_every_backend() {
    let (p, kappa) = grid();
    for ctx in common::all_contexts() {
        let mut precisions = vec![BesselPrecision::F64];
        if ctx.is_gpu() {
            precisions = vec![BesselPrecision::F32];
            if ctx.caps().f64 {
                precisions.push(BesselPrecision::F64);
            }
        }
        for precision in precisions {
            let label = format!("{} {}", ctx.info().name, precision.name());
            // f32 arithmetic: a few ulp of each term of log C; f64: the same at f64's ulp. The
            // limits below are about 3–4× the largest errors measured on lavapipe and llvmpipe
            // GL over this grid (2026-12-02: log C 2.0 / 1.6 ulp·terms, A 5.0 ulp in f32, κ̂
            // 9.8 / 7.1 ulp·cond in f32 / f64), room for other drivers' rounding, not slack
            // that would hide a lost term.
            let ulp = match precision {
                BesselPrecision::F32 => 2f64.powi(-24),
                BesselPrecision::F64 => 2f64.powi(-53),
            };
            let got = vmf_values(&ctx, &p, &kappa, precision).unwrap();
            for i in 0..p.len() {
                let k = seen(kappa[i], precision);
                let nu = p[i] / 2.0 - 1.0;
                let want_c = kv::log_normalizer(p[i], k);
                let terms = (nu * k.ln()).abs() + p[i] + log_iv(nu, k).abs() + 1.0;
                let err_c = (got.log_normalizer[i] - want_c).abs();
                assert!(
                    err_c <= 8.0 * ulp * terms,
                    "{label}: log C_{}({k}) = {}, want {want_c}",
                    p[i],
                    got.log_normalizer[i]
                );
                let want_a = kv::mean_resultant_length(p[i], k);
                let err_a = (got.mean_resultant_length[i] - want_a).abs() / want_a;
                assert!(
                    err_a <= 16.0 * ulp,
                    "{label}: A_{}({k}) = {}, want {want_a}",
                    p[i],
                    got.mean_resultant_length[i]
                );
            }
            // κ̂ from R̄ = A_p(κ): back to κ within the root's conditioning.
            let rbar: Vec<f64> = p
                .iter()
                .zip(&kappa)
                .map(|(&p, &k)| kv::mean_resultant_length(p, k))
                .collect();
            let fit = vmf_kappa_mle(&ctx, &p, &rbar, precision).unwrap();
            for i in 0..p.len() {
                let r = seen(rbar[i], precision);
                let want = kv::kappa_mle(p[i], r);
                let a = r;
                let slope = 1.0 - a * a - (p[i] - 1.0) / want * a;
                let cond = (a / (want * slope)).abs().max(1.0);
                assert!(
                    ((fit[i] - want) / want).abs() <= 32.0 * ulp * cond,
                    "{label}: κ̂(p={}, R̄={r}) = {}, want {want} (cond {cond:.1})",
                    p[i],
                    fit[i]
                );
            }
        }
    }
}

#[test]
fn limits_and_bad_input() {
    for ctx in common::all_contexts() {
        let precision = BesselPrecision::F32;
        let got = vmf_values(&ctx, &[3.0, 1.0, 3.0], &[0.0, 1.0, -1.0], precision).unwrap();
        let area = (4.0 * std::f64::consts::PI).ln();
        assert!((got.log_normalizer[0] + area).abs() < 1e-12);
        assert_eq!(got.mean_resultant_length[0], 0.0);
        for i in 1..3 {
            assert!(got.log_normalizer[i].is_nan() && got.mean_resultant_length[i].is_nan());
        }
        let fit = vmf_kappa_mle(
            &ctx,
            &[3.0, 3.0, 3.0, 1.0],
            &[0.0, 1.0, -0.5, 0.5],
            precision,
        )
        .unwrap();
        assert_eq!(fit[0], 0.0);
        assert!(fit[1..].iter().all(|k| k.is_nan()), "{fit:?}");
        assert!(vmf_values(&ctx, &[3.0], &[], precision).is_err());
        assert!(vmf_kappa_mle(&ctx, &[3.0, 4.0], &[0.5], precision).is_err());
    }
}
