//! The pitfall probes run on every adapter and the CPU, and report every probe; the behaviours
//! lowbit's kernels rely on hold wherever they run.

mod common;

use lowbit::probes::{run_probes, PROBE_NAMES};
use lowbit::Context;

#[test]
fn every_probe_reports_on_every_adapter() {
    let mut ctxs = common::gpu_contexts();
    ctxs.push(Context::cpu());
    for ctx in &ctxs {
        let name = ctx.info().name;
        let results = run_probes(ctx);
        let names: Vec<&str> = results.iter().map(|r| r.probe.as_str()).collect();
        assert_eq!(names, PROBE_NAMES, "{name}");
        for r in &results {
            assert!(
                !r.observed.contains("failed to run"),
                "{name}: {}: {}",
                r.probe,
                r.detail
            );
            assert!(!r.wgsl.is_empty());
        }
        let strict = |p: &str| results.iter().find(|r| r.probe == p).unwrap().strict;
        // lowbit's int8 kernels rely on exact packed dot products everywhere.
        assert_eq!(strict("dot4_extremes"), Some(true), "{name}");
        if ctx.is_gpu() {
            // Every GPU probe applies, except subgroups where the adapter has none.
            let applies = results.iter().filter(|r| r.strict.is_some()).count();
            let want = PROBE_NAMES.len() - usize::from(!ctx.caps().subgroups);
            assert_eq!(applies, want, "{name}");
        }
    }
}

#[test]
fn cpu_probes_report_what_rust_does() {
    let results = run_probes(&Context::cpu());
    let get = |p: &str| results.iter().find(|r| r.probe == p).unwrap();
    // Rust keeps subnormals, defines the signed cases as WGSL does (wrapping ops, guards for 0),
    // and its mul_add is a fused multiply-add.
    for p in [
        "f16_overflow",
        "tanh_large",
        "f32_subnormal",
        "f16_subnormal",
        "signed_int",
        "fma_fused",
    ] {
        assert_eq!(get(p).strict, Some(true), "{p}: {}", get(p).observed);
    }
    assert!(get("fma_fused").observed.contains("fused (2^-40)"));
    assert!(get("fma_fused")
        .observed
        .ends_with("written out: product rounded first (0)"));
    for p in ["subgroup_size", "workgroup_zero_init", "oob_read"] {
        assert_eq!(get(p).strict, None, "{p}");
    }
}
