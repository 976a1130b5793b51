//! Adapter enumeration and the selector syntax shared by `Context::with_adapter`,
//! the `LOWBIT_ADAPTER` variable and the CLI's `--adapter` flag.

use std::str::FromStr;

use crate::error::{Error, Result};

/// Which backend to run on: a GPU adapter picked by index, name or API, the best one, or the CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdapterSelector {
    /// The best GPU adapter: discrete > integrated > virtual > software (CPU-type) > other.
    Best,
    /// The adapter at this index of [`list_adapters`].
    Index(usize),
    /// The first adapter of this graphics API.
    Backend(wgpu::Backend),
    /// The first adapter whose name contains this text (case-insensitive).
    Name(String),
    /// The CPU backend (lowbit's SIMD kernels, no wgpu).
    Cpu,
}

impl FromStr for AdapterSelector {
    type Err = Error;

    /// `""`/`best`/`default`, `cpu`, a number, `vulkan`/`gl`/`metal`/`dx12`, or a name substring.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "" | "best" | "default" => AdapterSelector::Best,
            "cpu" => AdapterSelector::Cpu,
            "vulkan" | "vk" => AdapterSelector::Backend(wgpu::Backend::Vulkan),
            "gl" | "gles" | "opengl" => AdapterSelector::Backend(wgpu::Backend::Gl),
            "metal" => AdapterSelector::Backend(wgpu::Backend::Metal),
            "dx12" | "d3d12" => AdapterSelector::Backend(wgpu::Backend::Dx12),
            _ => match lower.parse::<usize>() {
                Ok(i) => AdapterSelector::Index(i),
                Err(_) => AdapterSelector::Name(lower),
            },
        })
    }
}

/// A description of one wgpu adapter, as `lowbit info` prints it.
#[derive(Clone, Debug)]
pub struct AdapterDescription {
    /// Position in the enumeration; stable for one machine and driver set.
    pub index: usize,
    /// The adapter as wgpu reports it (name, backend, device type, driver).
    pub info: wgpu::AdapterInfo,
    /// The adapter's own limits (lowbit requests exactly these).
    pub limits: wgpu::Limits,
    /// The optional features lowbit uses that this adapter offers.
    pub features: wgpu::Features,
}

/// The optional features lowbit asks for when the adapter has them.
pub(crate) fn wanted_features() -> wgpu::Features {
    wgpu::Features::SHADER_F16
        | wgpu::Features::SUBGROUP
        | wgpu::Features::SHADER_F64
        | wgpu::Features::TIMESTAMP_QUERY
}

pub(crate) fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::all();
    wgpu::Instance::new(desc)
}

/// Every adapter over every backend, in a stable order (wgpu's enumeration order, no-op adapters removed).
pub(crate) fn enumerate(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .filter(|a| a.get_info().backend != wgpu::Backend::Noop)
        .collect()
}

/// Lists every GPU adapter wgpu can see on this machine.
pub fn list_adapters() -> Vec<AdapterDescription> {
    let instance = new_instance();
    enumerate(&instance)
        .into_iter()
        .enumerate()
        .map(|(index, a)| AdapterDescription {
            index,
            info: a.get_info(),
            limits: a.limits(),
            features: a.features() & wanted_features(),
        })
        .collect()
}

/// Smaller is better: discrete > integrated > virtual > software > other, then Vulkan/Metal/DX12 before GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let api = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (device, api)
}

/// Picks the adapter a GPU selector names. `AdapterSelector::Cpu` is not a wgpu adapter and is refused here.
pub(crate) fn pick(adapters: Vec<wgpu::Adapter>, sel: &AdapterSelector) -> Result<wgpu::Adapter> {
    let names = || {
        adapters
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let info = a.get_info();
                format!("{i}: {} ({:?})", info.name, info.backend)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match sel {
        AdapterSelector::Cpu => {
            return Err(Error::Adapter(
                "the CPU backend is not a wgpu adapter; use Context::cpu()".into(),
            ))
        }
        AdapterSelector::Best => adapters
            .iter()
            .enumerate()
            .min_by_key(|(i, a)| (rank(&a.get_info()), *i))
            .map(|(i, _)| i),
        AdapterSelector::Index(i) => (*i < adapters.len()).then_some(*i),
        AdapterSelector::Backend(b) => adapters.iter().position(|a| a.get_info().backend == *b),
        AdapterSelector::Name(n) => adapters
            .iter()
            .position(|a| a.get_info().name.to_ascii_lowercase().contains(n.as_str())),
    };
    match found {
        Some(i) => Ok(adapters.into_iter().nth(i).expect("index from the same list")),
        None if adapters.is_empty() => Err(Error::Adapter(
            "no GPU adapter found (on Linux without a GPU install lavapipe: apt-get install mesa-vulkan-drivers libvulkan1)".into(),
        )),
        None => Err(Error::Adapter(format!(
            "no adapter matches {sel:?}; available: {}",
            names()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_parses_every_form() {
        assert_eq!(
            "".parse::<AdapterSelector>().unwrap(),
            AdapterSelector::Best
        );
        assert_eq!(
            "CPU".parse::<AdapterSelector>().unwrap(),
            AdapterSelector::Cpu
        );
        assert_eq!(
            "2".parse::<AdapterSelector>().unwrap(),
            AdapterSelector::Index(2)
        );
        assert_eq!(
            "gl".parse::<AdapterSelector>().unwrap(),
            AdapterSelector::Backend(wgpu::Backend::Gl)
        );
        assert_eq!(
            "LLVMpipe".parse::<AdapterSelector>().unwrap(),
            AdapterSelector::Name("llvmpipe".into())
        );
    }

    #[test]
    fn pick_on_empty_list_is_an_error() {
        assert!(pick(Vec::new(), &AdapterSelector::Best).is_err());
        assert!(pick(Vec::new(), &AdapterSelector::Cpu).is_err());
    }
}
