//! log-Bessel on every backend against the 3000 Arb-certified rows of
//! `tests/data/logbessel_reference.csv`, mixed error `|got − ref| / max(|ref|, 1)`:
//! CPU f64 ≤ 1e-14 (measured ~1e-15), GPU f64 ≤ 1e-13, GPU f32 ≤ 2e-6, every row finite.

mod common;

use lowbit::ops::{log_bessel_ik, BesselPrecision};
use lowbit::validate_bessel::{
    mixed_error as mixed, precisions, reference, reference_bound, BesselReference as Reference,
};
use lowbit::Context;
use lowbit_kernels::bessel::Region;

/// Checks one path; prints max and median per region and the worst rows.
fn check(ctx: &Context, precision: BesselPrecision, r: &Reference) {
    let tol = reference_bound(ctx, precision);
    let got = log_bessel_ik(ctx, &r.v, &r.x, precision).unwrap();
    let label = format!("{} {}", ctx.info().name, precision.name());
    let mut per: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut worst = (0.0, 0usize, "");
    for i in 0..r.v.len() {
        let (gi, gk) = (got.log_i[i], got.log_k[i]);
        assert!(
            gi.is_finite() && gk.is_finite(),
            "{label}: v={} x={} gave {gi}, {gk}",
            r.v[i],
            r.x[i]
        );
        let region = Region::of(r.v[i], r.x[i]).name();
        for (e, f) in [(mixed(gi, r.log_i[i]), "I"), (mixed(gk, r.log_k[i]), "K")] {
            per.entry(region).or_default().push(e);
            if e > worst.0 {
                worst = (e, i, f);
            }
        }
    }
    for (region, mut e) in per {
        e.sort_by(f64::total_cmp);
        println!(
            "{label} {region:8}: max {:.2e} median {:.2e}",
            e[e.len() - 1],
            e[e.len() / 2]
        );
    }
    let (e, i, f) = worst;
    println!(
        "{label}: worst {e:.2e} ({f}) at v={:e} x={:e}",
        r.v[i], r.x[i]
    );
    assert!(
        e <= tol,
        "{label}: max mixed error {e:.3e} > {tol:e} ({f} at v={} x={})",
        r.v[i],
        r.x[i]
    );
}

#[test]
fn every_backend_matches_the_reference_file() {
    let r = reference();
    assert_eq!(r.v.len(), 3000);
    for ctx in common::all_contexts() {
        for precision in precisions(&ctx) {
            check(&ctx, precision, &r);
        }
        if ctx.is_gpu() && !ctx.caps().f64 {
            let e = log_bessel_ik(&ctx, &r.v, &r.x, BesselPrecision::F64).unwrap_err();
            assert!(e.to_string().contains("shader-f64"), "{e}");
        }
    }
}

#[test]
fn limits_and_bad_input_on_every_backend() {
    let v = [0.0, 2.5, -1.0, 1.0, f64::NAN, 3.0];
    let x = [0.0, 0.0, 1.0, -2.0, 1.0, 4.0];
    for ctx in common::all_contexts() {
        let mut precisions = vec![BesselPrecision::F32];
        if !ctx.is_gpu() || ctx.caps().f64 {
            precisions.push(BesselPrecision::F64);
        }
        for p in precisions {
            let got = log_bessel_ik(&ctx, &v, &x, p).unwrap();
            assert_eq!((got.log_i[0], got.log_k[0]), (0.0, f64::INFINITY));
            assert_eq!(
                (got.log_i[1], got.log_k[1]),
                (f64::NEG_INFINITY, f64::INFINITY)
            );
            for i in 2..5 {
                assert!(got.log_i[i].is_nan() && got.log_k[i].is_nan(), "row {i}");
            }
            // The valid point among them is still computed.
            let (li, lk) = lowbit_kernels::bessel::log_ikv(3.0, 4.0);
            assert!((got.log_i[5] - li).abs() < 1e-5 && (got.log_k[5] - lk).abs() < 1e-5);
        }
        assert!(log_bessel_ik(&ctx, &[1.0, 2.0], &[1.0], BesselPrecision::F32).is_err());
        let empty = log_bessel_ik(&ctx, &[], &[], BesselPrecision::F32).unwrap();
        assert!(empty.log_i.is_empty());
    }
}
