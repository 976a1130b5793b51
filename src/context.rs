//! `Context`: one backend, either a wgpu device or lowbit's CPU SIMD kernels.

use std::sync::Arc;

use lowbit_kernels::CpuConfig;

use crate::adapter::{self, AdapterSelector};
use crate::error::{Error, Result};
use crate::gpu::{Caps, Gpu};

/// The environment variable that picks the adapter for [`Context::new`] (same syntax as `--adapter`).
pub const ADAPTER_ENV: &str = "LOWBIT_ADAPTER";

// One Backend lives in an Arc per context, so the size gap between variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    Gpu(Gpu),
    Cpu(CpuConfig),
}

/// One compute backend. Cheap to clone (shared); tensors remember the context they live on.
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<Backend>,
}

/// What a context runs on, for display and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendInfo {
    /// Adapter name, or the CPU model name.
    pub name: String,
    /// `vulkan`, `gl`, `metal`, `dx12`, or `cpu`.
    pub backend: String,
    /// `discrete`, `integrated`, `virtual`, `cpu`, `other` (wgpu's device type), or `host` for the CPU backend.
    pub device_type: String,
    /// Driver name and version, or the SIMD level for the CPU backend.
    pub driver: String,
}

impl BackendInfo {
    /// `name|backend|driver`: what a measurement or a tuning result of this adapter is filed
    /// under.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.name, self.backend, self.driver)
    }
}

/// A GPU's [`BackendInfo`].
pub(crate) fn gpu_info(g: &Gpu) -> BackendInfo {
    BackendInfo {
        name: g.info.name.clone(),
        backend: backend_name(g.info.backend).into(),
        device_type: device_type_name(g.info.device_type).into(),
        driver: format!("{} {}", g.info.driver, g.info.driver_info)
            .trim()
            .to_string(),
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = self.info();
        write!(f, "Context({} / {} / {})", i.name, i.backend, i.driver)
    }
}

/// Lower-case name of a wgpu backend as lowbit prints and parses it.
pub fn backend_name(b: wgpu::Backend) -> &'static str {
    match b {
        wgpu::Backend::Vulkan => "vulkan",
        wgpu::Backend::Gl => "gl",
        wgpu::Backend::Metal => "metal",
        wgpu::Backend::Dx12 => "dx12",
        wgpu::Backend::BrowserWebGpu => "webgpu",
        wgpu::Backend::Noop => "noop",
    }
}

/// Lower-case name of a wgpu device type.
pub fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete",
        wgpu::DeviceType::IntegratedGpu => "integrated",
        wgpu::DeviceType::VirtualGpu => "virtual",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

impl Context {
    /// The adapter `LOWBIT_ADAPTER` names, or else the best GPU adapter (discrete > integrated >
    /// virtual > software). `LOWBIT_ADAPTER=cpu` gives the CPU backend.
    pub fn new() -> Result<Self> {
        let sel = std::env::var(ADAPTER_ENV).unwrap_or_default();
        Self::with_adapter(&sel)
    }

    /// The adapter a selector names: an index, a name substring, a backend name
    /// (`vulkan`, `gl`, `metal`, `dx12`), `best`, or `cpu`.
    pub fn with_adapter(selector: &str) -> Result<Self> {
        Self::with_selector(&selector.parse()?)
    }

    /// Like [`Context::with_adapter`] with a parsed selector.
    pub fn with_selector(sel: &AdapterSelector) -> Result<Self> {
        if *sel == AdapterSelector::Cpu {
            return Ok(Self::cpu());
        }
        let instance = adapter::new_instance();
        let a = adapter::pick(adapter::enumerate(&instance), sel)?;
        Self::open(&a, None)
    }

    /// Like [`Context::with_adapter`], but requests at most `max_storage_binding` bytes per
    /// storage binding: emulates a smaller device (tests use it to exercise the split paths).
    pub fn with_adapter_limits(selector: &str, max_storage_binding: Option<u64>) -> Result<Self> {
        let sel: AdapterSelector = selector.parse()?;
        if sel == AdapterSelector::Cpu {
            return Ok(Self::cpu());
        }
        let instance = adapter::new_instance();
        let a = adapter::pick(adapter::enumerate(&instance), &sel)?;
        Self::open(&a, max_storage_binding)
    }

    /// One context per GPU adapter on this machine (adapters that fail to open are reported in
    /// the `Err` entries), in enumeration order.
    pub fn all_gpus() -> Vec<Result<Self>> {
        let instance = adapter::new_instance();
        adapter::enumerate(&instance)
            .iter()
            .map(|a| Self::open(a, None))
            .collect()
    }

    /// The CPU backend: lowbit's SIMD kernels at the detected level (capped by `LOWBIT_CPU_SIMD`),
    /// on every hardware thread.
    pub fn cpu() -> Self {
        Self::cpu_with(CpuConfig::detect())
    }

    /// The CPU backend with an explicit SIMD level and thread count (tests use it to run every level).
    pub fn cpu_with(config: CpuConfig) -> Self {
        Context {
            inner: Arc::new(Backend::Cpu(config)),
        }
    }

    fn open(a: &wgpu::Adapter, max_storage_binding: Option<u64>) -> Result<Self> {
        let info = a.get_info();
        let features = a.features() & adapter::wanted_features();
        let mut limits = a.limits();
        if let Some(cap) = max_storage_binding {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(cap);
        }
        let (device, queue) = pollster::block_on(a.request_device(&wgpu::DeviceDescriptor {
            label: Some("lowbit"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::Device(format!("opening {}: {e}", info.name)))?;
        Ok(Context {
            inner: Arc::new(Backend::Gpu(Gpu::new(device, queue, info, limits))),
        })
    }

    /// Wraps a device an engine already owns, so lowbit needs no second device. lowbit uses only
    /// the features and limits the device was created with.
    pub fn from_wgpu(adapter: &wgpu::Adapter, device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let limits = device.limits();
        Context {
            inner: Arc::new(Backend::Gpu(Gpu::new(
                device,
                queue,
                adapter.get_info(),
                limits,
            ))),
        }
    }

    /// Whether this context runs on a wgpu device.
    pub fn is_gpu(&self) -> bool {
        matches!(*self.inner, Backend::Gpu(_))
    }

    /// The device's optional capabilities (all false on the CPU backend).
    pub fn caps(&self) -> Caps {
        match &*self.inner {
            Backend::Gpu(g) => g.caps,
            Backend::Cpu(_) => Caps::default(),
        }
    }

    /// The device's limits as granted (`None` on the CPU backend).
    pub fn limits(&self) -> Option<wgpu::Limits> {
        match &*self.inner {
            Backend::Gpu(g) => Some(g.limits.clone()),
            Backend::Cpu(_) => None,
        }
    }

    /// The CPU configuration (`None` on a GPU context).
    pub fn cpu_config(&self) -> Option<CpuConfig> {
        match &*self.inner {
            Backend::Cpu(c) => Some(*c),
            Backend::Gpu(_) => None,
        }
    }

    /// The wgpu device and queue (`None` on the CPU backend), for engines that share them.
    pub fn wgpu(&self) -> Option<(&wgpu::Device, &wgpu::Queue)> {
        match &*self.inner {
            Backend::Gpu(g) => Some((&g.device, &g.queue)),
            Backend::Cpu(_) => None,
        }
    }

    /// Name, backend, device type and driver.
    pub fn info(&self) -> BackendInfo {
        match &*self.inner {
            Backend::Gpu(g) => gpu_info(g),
            Backend::Cpu(c) => BackendInfo {
                name: lowbit_kernels::simd::cpu_name(),
                backend: "cpu".into(),
                device_type: "host".into(),
                driver: format!("lowbit-kernels {} x{}", c.level.name(), c.threads),
            },
        }
    }

    /// Whether two handles share one backend (tensors may only be mixed within one).
    pub fn same(&self, other: &Context) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Reads `len` bytes at `offset` of a buffer on this context's device (it needs `COPY_SRC`).
    pub fn read_buffer(&self, buffer: &wgpu::Buffer, offset: u64, len: u64) -> Result<Vec<u8>> {
        let g = self
            .gpu()
            .ok_or_else(|| Error::Unsupported("read_buffer on the CPU backend".into()))?;
        g.download(buffer, offset, len)
    }

    pub(crate) fn gpu(&self) -> Option<&Gpu> {
        match &*self.inner {
            Backend::Gpu(g) => Some(g),
            Backend::Cpu(_) => None,
        }
    }
}
