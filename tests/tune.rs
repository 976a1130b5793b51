//! Autotuning: every candidate the search may pick computes the matmul within the f32 bound on
//! every adapter (awkward shapes, both kernels); a search keeps a choice only where it beat the
//! default, writes it to the cache, and dispatch then uses it — still correct.

mod common;

use std::time::Duration;

use lowbit::kernels::{reference, MatRef};
use lowbit::ops::matmul::variants;
use lowbit::ops::{matmul, matmul_with, MatmulKernel};
use lowbit::tune::{adapter_key, cached_choice, candidates, class, read_cache, tune};
use lowbit::{Context, DType};

fn check(
    ctx: &Context,
    xd: DType,
    wd: DType,
    (m, n, k): (usize, usize, usize),
    kernel: MatmulKernel,
) {
    let (xv, x) = common::float_tensor(ctx, xd, &[m, k], 7 + k as u64);
    let (wv, w) = common::float_tensor(ctx, wd, &[n, k], 9 + n as u64);
    let yr = reference::matmul(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
    let ya = reference::matmul_abs(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
    let default = variants(ctx, xd, wd, m, k)[0];
    assert_eq!(default.kernel, kernel);
    let cands = candidates(ctx, default);
    assert!(cands.len() > 10, "{} candidates", cands.len());
    for v in cands {
        let y = matmul_with(ctx, &x, &w, Some(v))
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        common::check_within_bound(
            &format!("{} {}", ctx.info().backend, v.name()),
            &y,
            &yr,
            &ya,
            k,
        );
    }
}

#[test]
fn every_candidate_is_correct() {
    for ctx in common::gpu_contexts() {
        // K not a multiple of any tile or load width; M, N past one workgroup's rows.
        check(
            &ctx,
            DType::F16,
            DType::F16,
            (3, 33, 264),
            MatmulKernel::Gemv,
        );
        check(
            &ctx,
            DType::F32,
            DType::F32,
            (1, 17, 257),
            MatmulKernel::Gemv,
        );
        check(
            &ctx,
            DType::F16,
            DType::F16,
            (33, 17, 257),
            MatmulKernel::Gemm,
        );
        check(
            &ctx,
            DType::F32,
            DType::F16,
            (65, 130, 33),
            MatmulKernel::Gemm,
        );
    }
}

#[test]
fn a_search_keeps_only_gains_and_dispatch_uses_them() {
    let Some(ctx) = common::gpu_contexts().into_iter().next() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lowbit-tune-{}", std::process::id()));
    let path = dir.join("tune.json");
    let classes = [(MatmulKernel::Gemv, DType::F16, DType::F16, 1)];
    let results = tune(
        &ctx,
        &classes,
        Duration::from_millis(20),
        Some(&path),
        |_| {},
    )
    .unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert!(
        r.candidates > 10 && r.gain.is_finite() && r.gain > 0.0,
        "{r:?}"
    );
    assert_eq!(r.kept, r.gain >= 1.03 && r.best != r.default, "{r:?}");
    let cache = read_cache(&path).unwrap();
    let entries = &cache.adapters[&adapter_key(&ctx)];
    let class = class(MatmulKernel::Gemv, DType::F16, DType::F16, 1);
    assert_eq!(entries.contains_key(&class), r.kept);
    // What this process now dispatches with is what the file holds.
    assert_eq!(
        cached_choice(&ctx, &class).map(|e| e.choice),
        entries.get(&class).map(|e| e.choice)
    );
    if let Some(e) = entries.get(&class) {
        assert!(e.tuned_ms < e.default_ms, "{e:?}");
    }
    // Dispatch with whatever was kept: still within the bound.
    let (m, n, k) = (1, 65, 264);
    let (xv, x) = common::float_tensor(&ctx, DType::F16, &[m, k], 3);
    let (wv, w) = common::float_tensor(&ctx, DType::F16, &[n, k], 4);
    let y = matmul(&ctx, &x, &w).unwrap().to_vec::<f32>().unwrap();
    let yr = reference::matmul(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
    let ya = reference::matmul_abs(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
    common::check_within_bound("tuned dispatch", &y, &yr, &ya, k);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_cpu_backend_has_nothing_to_tune() {
    let err = tune(&Context::cpu(), &[], Duration::from_millis(1), None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("CPU backend"), "{err}");
}
