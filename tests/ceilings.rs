//! The ceilings every bench result is placed under: measured on every adapter and the CPU,
//! positive and finite, f16 exactly where the adapter computes in f16; and the roofline picks
//! the lower of the memory slope and the compute roof.

mod common;

use std::time::Duration;

use lowbit::bench::Roofline;
use lowbit::ceilings::{measure_ceilings, Ceilings};
use lowbit::measure::measure_wall_runs;
use lowbit::Context;

#[test]
fn every_adapter_has_positive_ceilings() {
    let mut ctxs = common::gpu_contexts();
    ctxs.push(Context::cpu());
    for ctx in &ctxs {
        let c = measure_ceilings(ctx, Duration::from_millis(20)).unwrap();
        let name = &c.adapter;
        for (what, v) in [
            ("read", c.read_gbps),
            ("copy", c.copy_gbps),
            ("f32", c.f32_gflops),
            ("int8", c.int8_gops.unwrap()),
        ] {
            assert!(v.is_finite() && v > 0.0, "{name}: {what} = {v}");
        }
        assert_eq!(c.backend, ctx.info().backend);
        let f16 = ctx.is_gpu() && ctx.caps().shader_f16;
        assert_eq!(c.f16_gflops.is_some(), f16, "{name}");
        assert!(c.f16_gflops.is_none_or(|g| g.is_finite() && g > 0.0));
    }
}

fn ceilings(read: f64, f32: f64, int8: Option<f64>) -> Ceilings {
    Ceilings {
        adapter: "test".into(),
        backend: "cpu".into(),
        read_gbps: read,
        copy_gbps: read,
        f32_gflops: f32,
        f16_gflops: None,
        int8_gops: int8,
        timing: "wall".into(),
    }
}

#[test]
fn roofline_takes_the_lower_ceiling() {
    let c = ceilings(100.0, 1000.0, Some(4000.0));
    // A GEMV: 2 operations per 2-byte weight, 1 op/B: memory-bound at 100 GFLOP/s.
    let r = Roofline::of(2e6, 2e6, 100.0, false, &c);
    assert_eq!((r.bound.as_str(), r.compute.as_str()), ("memory", "f32"));
    assert!((r.intensity - 1.0).abs() < 1e-12 && (r.attainable_gflops - 100.0).abs() < 1e-9);
    // 50 op/B: 5000 by memory, the f32 roof of 1000 binds.
    let r = Roofline::of(1e8, 2e6, 100.0, false, &c);
    assert_eq!(r.bound, "compute");
    assert_eq!(r.attainable_gflops, 1000.0);
    // int8 arithmetic meets the int8 roof, where the adapter has one; else the f32 one.
    let r = Roofline::of(1e8, 2e6, 100.0, true, &c);
    assert_eq!((r.bound.as_str(), r.compute.as_str()), ("compute", "int8"));
    assert_eq!(r.attainable_gflops, 4000.0);
    let r = Roofline::of(1e8, 2e6, 100.0, true, &ceilings(100.0, 1000.0, None));
    assert_eq!((r.compute.as_str(), r.attainable_gflops), ("f32", 1000.0));
}

#[test]
fn a_measurement_keeps_min_median_max() {
    let mut i = 0u64;
    let m = measure_wall_runs(Duration::from_millis(30), || {
        i += 1;
        std::thread::sleep(Duration::from_micros(200 * (i % 5)));
        Ok(())
    })
    .unwrap();
    assert!(m.runs >= 3);
    assert!(m.min <= m.median && m.median <= m.max, "{m:?}");
    assert!(m.max >= 0.0008, "the slowest run slept 0.8 ms: {m:?}");
    assert_eq!(m.timing.name(), "wall");
}
