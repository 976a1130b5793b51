//! Adapter selection: selectors, LOWBIT_ADAPTER, the CPU backend, and wrapping an engine's device.

mod common;

use common::*;
use lowbit::{AdapterSelector, Context, DType, Error, Tensor};

#[test]
fn every_listed_adapter_is_selectable_by_index_name_and_backend() {
    let gpus = gpu_contexts();
    let listed = lowbit::list_adapters();
    assert_eq!(gpus.len(), listed.len());
    for a in &listed {
        let by_index = Context::with_adapter(&a.index.to_string()).unwrap();
        assert_eq!(by_index.info().name, a.info.name);
        assert_eq!(
            by_index.info().backend,
            lowbit::backend_name(a.info.backend)
        );
        let by_name = Context::with_adapter(&a.info.name.to_uppercase()).unwrap();
        assert!(by_name.info().name.contains(&a.info.name));
        let by_backend = Context::with_adapter(lowbit::backend_name(a.info.backend)).unwrap();
        assert_eq!(
            by_backend.info().backend,
            lowbit::backend_name(a.info.backend)
        );
    }
}

#[test]
fn best_adapter_prefers_real_gpus_then_vulkan_over_gl() {
    let listed = lowbit::list_adapters();
    if listed.is_empty() {
        return;
    }
    let best = Context::with_adapter("best").unwrap().info();
    let rank = |t: &str| {
        ["discrete", "integrated", "virtual", "cpu", "other"]
            .iter()
            .position(|x| *x == t)
            .unwrap()
    };
    for a in &listed {
        assert!(rank(&best.device_type) <= rank(lowbit::device_type_name(a.info.device_type)));
    }
    if listed
        .iter()
        .all(|a| a.info.device_type == wgpu::DeviceType::Cpu)
        && listed
            .iter()
            .any(|a| a.info.backend == wgpu::Backend::Vulkan)
    {
        assert_eq!(best.backend, "vulkan");
    }
}

#[test]
fn unknown_selectors_are_errors_that_list_the_adapters() {
    match Context::with_adapter("no-such-adapter-xyz") {
        Err(Error::Adapter(msg)) => {
            assert!(msg.contains("no-such-adapter-xyz") || msg.contains("no GPU adapter"))
        }
        other => panic!("expected an adapter error, got {other:?}"),
    }
    assert!(matches!(
        Context::with_adapter("999"),
        Err(Error::Adapter(_))
    ));
}

#[test]
fn cpu_selector_and_env_variable_give_the_cpu_backend() {
    assert_eq!(
        "cpu".parse::<AdapterSelector>().unwrap(),
        AdapterSelector::Cpu
    );
    let c = Context::with_adapter("cpu").unwrap();
    assert!(!c.is_gpu());
    assert_eq!(c.info().backend, "cpu");
    // The only test in this binary that touches the variable.
    std::env::set_var(lowbit::ADAPTER_ENV, "cpu");
    let from_env = Context::new().unwrap();
    std::env::remove_var(lowbit::ADAPTER_ENV);
    assert!(!from_env.is_gpu());
}

#[test]
fn an_engines_own_device_is_wrapped_and_its_buffers_used() {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let Some(adapter) = adapters
        .into_iter()
        .find(|a| a.get_info().backend != wgpu::Backend::Noop)
    else {
        assert!(std::env::var_os(REQUIRE_GPU_ENV).is_none(), "no adapter");
        return;
    };
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap();
    let ctx = Context::from_wgpu(&adapter, device.clone(), queue.clone());
    assert!(ctx.is_gpu());
    // The engine's weights in its own buffer, viewed by lowbit.
    let w: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let buf = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("engine w"),
        size: 48,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buf, 0, bytemuck::cast_slice(&w));
    let wv = lowbit::TensorView::from_buffer(&buf, 0, DType::F32, &[3, 4]).unwrap();
    let x = Tensor::from_slice(&ctx, &[1.0f32, 1.0, 1.0, 1.0], &[1, 4]).unwrap();
    let y = lowbit::ops::matmul(&ctx, &x, wv).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![6.0, 22.0, 38.0]);
    // A view larger than the buffer is refused, also when offset + size would wrap.
    assert!(lowbit::TensorView::from_buffer(&buf, 0, DType::F32, &[4, 4]).is_err());
    assert!(lowbit::TensorView::from_buffer(&buf, u64::MAX - 8, DType::F32, &[3, 4]).is_err());
    assert!(lowbit::TensorView::from_buffer(&buf, 0, DType::F32, &[1 << 62]).is_err());

    // x, W and the bias at offsets of one engine buffer (aligned to the device's storage
    // offset alignment), through the dense and the W8A8 linear ops, against the host.
    let align = u64::from(device.limits().min_storage_buffer_offset_alignment).max(256);
    let (m, n, k) = (3, 5, 7);
    let xs: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.25 - 2.0).collect();
    let ws: Vec<f32> = (0..n * k).map(|i| 1.0 - i as f32 * 0.125).collect();
    let bs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let shared = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("engine arena"),
        size: 4 * align,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let (xo, wo, bo) = (align, 2 * align, 3 * align);
    queue.write_buffer(&shared, xo, bytemuck::cast_slice(&xs));
    queue.write_buffer(&shared, wo, bytemuck::cast_slice(&ws));
    queue.write_buffer(&shared, bo, bytemuck::cast_slice(&bs));
    let view = |off, dtype, shape: &[usize]| {
        lowbit::TensorView::from_buffer(&shared, off, dtype, shape).unwrap()
    };
    let y = lowbit::ops::linear(
        &ctx,
        view(xo, DType::F32, &[m, k]),
        view(wo, DType::F32, &[n, k]),
        Some(view(bo, DType::F32, &[n])),
    )
    .unwrap()
    .to_vec::<f32>()
    .unwrap();
    for t in 0..m {
        for r in 0..n {
            // Small integers and quarters: exact in f32 in any order.
            let want: f32 = (0..k).map(|i| xs[t * k + i] * ws[r * k + i]).sum::<f32>() + bs[r];
            assert_eq!(y[t * n + r], want, "token {t} row {r}");
        }
    }
    // W8A8 with its int8 operands and scales at offsets too.
    let (xi, wi): (Vec<i8>, Vec<i8>) = (
        (0..m * 8).map(|i| (i as i8).wrapping_mul(37)).collect(),
        (0..n * 8).map(|i| (i as i8).wrapping_mul(91)).collect(),
    );
    let (sx, sw) = (vec![0.5f32; m], vec![0.25f32; n]);
    queue.write_buffer(&shared, xo, bytemuck::cast_slice(&xi));
    queue.write_buffer(&shared, xo + 128, bytemuck::cast_slice(&sx));
    queue.write_buffer(&shared, wo, bytemuck::cast_slice(&wi));
    queue.write_buffer(&shared, wo + 128, bytemuck::cast_slice(&sw));
    let scale_view = |off: u64, len: usize| {
        // The scales sit 128 bytes into an aligned slot: aligned where the device's alignment
        // allows 128, else refused (checked below).
        lowbit::TensorView::from_buffer(&shared, off + 128, DType::F32, &[len]).unwrap()
    };
    let r = lowbit::ops::w8a8_linear(
        &ctx,
        (view(xo, DType::I8, &[m, 8]), scale_view(xo, m)),
        (view(wo, DType::I8, &[n, 8]), scale_view(wo, n)),
        Some(view(bo, DType::F32, &[n])),
        None,
    );
    if u64::from(device.limits().min_storage_buffer_offset_alignment) <= 128 {
        let y = r.unwrap().to_vec::<f32>().unwrap();
        let want = lowbit::kernels::reference::w8a8(&xi, &sx, &wi, &sw, m, n, 8).unwrap();
        for i in 0..m * n {
            assert_eq!(y[i], want[i] + bs[i % n], "output {i}");
        }
    } else {
        assert!(r.unwrap_err().to_string().contains("align"));
    }
    // An offset off the alignment is refused when bound, with an error that says so.
    let odd = lowbit::TensorView::from_buffer(&shared, xo + 4, DType::F32, &[m, k]).unwrap();
    let e = lowbit::ops::matmul(&ctx, odd, view(wo, DType::F32, &[n, k]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("align"), "{e}");
}
