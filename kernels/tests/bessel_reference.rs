//! `log I_v(x)`, `log K_v(x)` in f64 against the 3000 Arb-certified rows of
//! `tests/data/logbessel_reference.csv`, with the mixed error `|got − ref| / max(|ref|, 1)`.

use lowbit_kernels::bessel::{
    log_ikv, log_ikv_slice, log_ikv_slice_at, log_iv, log_iv_slice, log_kv, log_kv_slice, Region,
};

struct Row {
    v: f64,
    x: f64,
    log_i: f64,
    log_k: f64,
}

fn reference() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/logbessel_reference.csv"
    );
    let text = std::fs::read_to_string(path).expect("reference file");
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|s| s.parse().unwrap()).collect();
            Row {
                v: f[0],
                x: f[1],
                log_i: f[2],
                log_k: f[3],
            }
        })
        .collect()
}

fn mixed(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

/// Max and median of a list of errors.
fn stats(mut e: Vec<f64>) -> (f64, f64) {
    e.sort_by(f64::total_cmp);
    (
        *e.last().unwrap_or(&0.0),
        e.get(e.len() / 2).copied().unwrap_or(0.0),
    )
}

#[test]
fn every_reference_row_within_1e_14() {
    let rows = reference();
    assert_eq!(rows.len(), 3000);
    let mut worst: Vec<(f64, &str, f64, f64)> = Vec::new();
    let mut per_region: std::collections::BTreeMap<(&str, &str), Vec<f64>> = Default::default();
    for r in &rows {
        let (li, lk) = log_ikv(r.v, r.x);
        assert!(li.is_finite() && lk.is_finite(), "v={} x={}", r.v, r.x);
        let region = Region::of(r.v, r.x).name();
        let ei = mixed(li, r.log_i);
        let ek = mixed(lk, r.log_k);
        // The single-function entry points are the same computation.
        assert_eq!(log_iv(r.v, r.x).to_bits(), li.to_bits());
        assert_eq!(log_kv(r.v, r.x).to_bits(), lk.to_bits());
        per_region.entry((region, "I")).or_default().push(ei);
        per_region.entry((region, "K")).or_default().push(ek);
        worst.push((ei, "I", r.v, r.x));
        worst.push((ek, "K", r.v, r.x));
    }
    for ((region, f), e) in per_region {
        let n = e.len();
        let (max, med) = stats(e);
        println!("{region:8} {f}: {n:5} rows, max {max:.2e}, median {med:.2e}");
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    for w in &worst[..8] {
        println!("worst: {:.2e} {} v={:e} x={:e}", w.0, w.1, w.2, w.3);
    }
    // The target is 1e-14; measured 1.2e-15, so 4e-15 catches a regression long before that.
    assert!(worst[0].0 <= 4e-15, "max mixed error {:.3e}", worst[0].0);
}

#[test]
fn batch_path_at_every_simd_level_within_the_same_bound() {
    let rows = reference();
    let v: Vec<f64> = rows.iter().map(|r| r.v).collect();
    let x: Vec<f64> = rows.iter().map(|r| r.x).collect();
    for level in lowbit_kernels::simd::machine_levels() {
        for threads in [1, 2] {
            let mut out = vec![(0.0, 0.0); v.len()];
            log_ikv_slice_at(level, &v, &x, &mut out, threads).unwrap();
            let mut single_i = vec![0.0; v.len()];
            let mut single_k = vec![0.0; v.len()];
            log_iv_slice(&v, &x, &mut single_i, threads).unwrap();
            log_kv_slice(&v, &x, &mut single_k, threads).unwrap();
            let mut worst: f64 = 0.0;
            for (i, r) in rows.iter().enumerate() {
                assert!(out[i].0.is_finite() && out[i].1.is_finite());
                worst = worst
                    .max(mixed(out[i].0, r.log_i))
                    .max(mixed(out[i].1, r.log_k))
                    .max(mixed(single_i[i], r.log_i))
                    .max(mixed(single_k[i], r.log_k));
            }
            println!("{level:?} threads {threads}: max mixed error {worst:.2e}");
            assert!(worst <= 4e-15, "{level:?}: {worst:e}");
        }
    }
    // Length mismatches are errors.
    let mut out = vec![(0.0, 0.0); 2];
    assert!(log_ikv_slice(&[1.0, 2.0], &[1.0], &mut out, 1).is_err());
    assert!(log_ikv_slice(&[1.0], &[1.0], &mut out, 1).is_err());
}
