//! The GPU side of a [`crate::Context`]: one wgpu device, its capabilities, its pipeline cache.

mod device;
mod timing;

pub use device::Caps;
pub(crate) use device::{Dispatch, Gpu};
pub(crate) use timing::GpuTimer;
