//! One wgpu device with what lowbit needs around it: granted capabilities, a pipeline cache,
//! uploads, downloads, and dispatches whose validation errors come back as `Err`, not panics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// The optional capabilities a device was granted, as the kernels see them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// `shader-f16`: native `f16` in WGSL (otherwise f16 is read as packed `u32`).
    pub shader_f16: bool,
    /// Subgroup operations (`subgroupAdd`, ...); never assumed to have a particular size.
    pub subgroups: bool,
    /// Smallest subgroup size the adapter reports (0 when unknown).
    pub subgroup_min_size: u32,
    /// Largest subgroup size the adapter reports (0 when unknown).
    pub subgroup_max_size: u32,
    /// `shader-f64`.
    pub f64: bool,
    /// Timestamp queries around compute passes.
    pub timestamps: bool,
    /// The adapter is a CPU device (lavapipe, llvmpipe GL, WARP, SwiftShader): kernels tuned for
    /// that execution model are preferred there (see `shaders/README.md`).
    pub cpu_device: bool,
    /// The driver ends any invocation after a fixed number of loop iterations without an error
    /// (Mesa's llvmpipe: 65535 back-edges), so long loops are sliced into several dispatches.
    pub loop_limited: bool,
    /// The driver specialises a shader to the values in its uniform buffers (lavapipe's uniform
    /// inlining): on every pipeline bind, as long as inlining halves the shader, it re-optimises
    /// and recompiles it, with no cache: 5 ms a dispatch for the ternary GEMV at N = K = 512,
    /// ten times its work. Kernel parameters go in a read-only storage buffer there, which it
    /// does not inline.
    pub params_in_storage: bool,
    /// `unpack2x16float` is as cheap as a conversion instruction. Not on llvmpipe GL: there the
    /// FP8 GEMV that widens codes to f16 and converts them ran 0.85–0.97× (E4M3) and
    /// 0.86–1.04× (E5M2) dequantise-then-dense, against 0.89–1.11× and 1.10–1.24× with integer
    /// decoding (three alternated runs; on lavapipe the other way).
    pub cheap_unpack_half: bool,
}

impl Caps {
    pub(crate) fn from_device(features: wgpu::Features, info: &wgpu::AdapterInfo) -> Self {
        let llvmpipe = [&info.name, &info.driver]
            .iter()
            .any(|s| s.to_ascii_lowercase().contains("llvmpipe"));
        Caps {
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            subgroup_min_size: info.subgroup_min_size,
            subgroup_max_size: info.subgroup_max_size,
            f64: features.contains(wgpu::Features::SHADER_F64),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            cpu_device: info.device_type == wgpu::DeviceType::Cpu,
            loop_limited: llvmpipe,
            params_in_storage: llvmpipe && info.backend == wgpu::Backend::Vulkan,
            cheap_unpack_half: !(llvmpipe && info.backend == wgpu::Backend::Gl),
        }
    }

    /// Feature names as `lowbit info` prints them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, name) in [
            (self.shader_f16, "shader-f16"),
            (self.subgroups, "subgroups"),
            (self.f64, "shader-f64"),
            (self.timestamps, "timestamp-query"),
        ] {
            if on {
                v.push(name);
            }
        }
        v
    }
}

/// A GPU device owned (or borrowed from an engine) by a context.
pub(crate) struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub caps: Caps,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
}

/// One compute dispatch: a pipeline, its buffers in binding order, a workgroup grid.
pub(crate) struct Dispatch<'a> {
    pub pipeline: &'a wgpu::ComputePipeline,
    pub bindings: Vec<wgpu::BindingResource<'a>>,
    pub groups: [u32; 3],
}

fn scope_error(e: Option<wgpu::Error>) -> Result<()> {
    match e {
        None => Ok(()),
        Some(wgpu::Error::OutOfMemory { .. }) => {
            Err(Error::DeviceLimit("the device ran out of memory".into()))
        }
        Some(e) => Err(Error::Device(e.to_string())),
    }
}

impl Gpu {
    pub(crate) fn new(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        limits: wgpu::Limits,
    ) -> Self {
        // Errors are captured by scopes around every call; anything that escapes is reported,
        // never turned into a panic inside the library.
        device.on_uncaptured_error(Arc::new(|e| {
            eprintln!("lowbit: uncaptured wgpu error: {e}")
        }));
        let caps = Caps::from_device(device.features(), &info);
        Gpu {
            device,
            queue,
            info,
            limits,
            caps,
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` inside validation and out-of-memory error scopes and returns what they caught.
    pub(crate) fn scoped<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let v = pollster::block_on(val.pop());
        let o = pollster::block_on(oom.pop());
        scope_error(v)?;
        scope_error(o)?;
        Ok(out)
    }

    /// The pipeline for `key`, created from `source` on first use.
    pub(crate) fn pipeline(
        &self,
        key: &str,
        source: impl FnOnce() -> String,
        constants: &[(&str, f64)],
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        if let Some(p) = self.pipelines.lock().expect("pipeline cache lock").get(key) {
            return Ok(p.clone());
        }
        let mut src = source();
        if self.caps.params_in_storage {
            src = crate::shader_text::params_in_storage(&src);
        }
        let pipeline = self
            .scoped(|| {
                let module = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(key),
                        source: wgpu::ShaderSource::Wgsl(src.as_str().into()),
                    });
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(key),
                        layout: None,
                        module: &module,
                        entry_point: Some("main"),
                        compilation_options: wgpu::PipelineCompilationOptions {
                            constants,
                            zero_initialize_workgroup_memory: false,
                        },
                        cache: None,
                    })
            })
            .map_err(|e| Error::Shader {
                name: key.to_string(),
                message: e.to_string(),
            })?;
        let p = Arc::new(pipeline);
        self.pipelines
            .lock()
            .expect("pipeline cache lock")
            .insert(key.to_string(), p.clone());
        Ok(p)
    }

    /// A storage buffer holding `bytes`, padded to a multiple of 16 bytes (the widest vector load).
    pub(crate) fn upload(&self, bytes: &[u8], label: &str) -> Result<wgpu::Buffer> {
        let size = self.check_size(bytes.len() as u64, label)?;
        self.scoped(|| {
            let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            // write_buffer wants a multiple of 4 bytes; the tail word is padded with zeros.
            let whole = bytes.len() / 4 * 4;
            self.queue.write_buffer(&buf, 0, &bytes[..whole]);
            if whole < bytes.len() {
                let mut tail = [0u8; 4];
                tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
                self.queue.write_buffer(&buf, whole as u64, &tail);
            }
            buf
        })
    }

    /// An uninitialised storage buffer of at least `len` bytes.
    pub(crate) fn alloc(&self, len: u64, label: &str) -> Result<wgpu::Buffer> {
        let size = self.check_size(len, label)?;
        self.scoped(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        })
    }

    fn check_size(&self, len: u64, label: &str) -> Result<u64> {
        let size = len.max(16).div_ceil(16) * 16;
        if size > self.limits.max_buffer_size {
            return Err(Error::DeviceLimit(format!(
                "{label} needs {size} bytes, over this device's max_buffer_size of {} bytes",
                self.limits.max_buffer_size
            )));
        }
        Ok(size)
    }

    /// A small uniform buffer with the kernel's parameters.
    pub(crate) fn uniform(&self, words: &[u32]) -> Result<wgpu::Buffer> {
        self.scoped(|| {
            let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("params"),
                size: (words.len() as u64 * 4).div_ceil(16) * 16,
                // STORAGE too: bound as a read-only storage buffer where the driver inlines
                // uniforms (Caps::params_in_storage).
                usage: wgpu::BufferUsages::UNIFORM
                    | wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.queue
                .write_buffer(&buf, 0, bytemuck::cast_slice(words));
            buf
        })
    }

    /// Records the dispatches into one compute pass (optionally timed), submits, and waits.
    pub(crate) fn run(
        &self,
        dispatches: &[Dispatch<'_>],
        timer: Option<&super::GpuTimer>,
    ) -> Result<()> {
        let max = self.limits.max_compute_workgroups_per_dimension;
        for d in dispatches {
            if d.groups.iter().any(|&g| g > max) {
                return Err(Error::DeviceLimit(format!(
                    "dispatch of {:?} workgroups exceeds {max} per dimension",
                    d.groups
                )));
            }
        }
        let index = self.scoped(|| {
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: timer.map(|t| t.pass_writes()),
                });
                for d in dispatches {
                    let layout = d.pipeline.get_bind_group_layout(0);
                    let entries: Vec<wgpu::BindGroupEntry> = d
                        .bindings
                        .iter()
                        .enumerate()
                        .map(|(i, r)| wgpu::BindGroupEntry {
                            binding: i as u32,
                            resource: r.clone(),
                        })
                        .collect();
                    let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: None,
                        layout: &layout,
                        entries: &entries,
                    });
                    pass.set_pipeline(d.pipeline);
                    pass.set_bind_group(0, &bg, &[]);
                    let [x, y, z] = d.groups;
                    if x > 0 && y > 0 && z > 0 {
                        pass.dispatch_workgroups(x, y, z);
                    }
                }
            }
            if let Some(t) = timer {
                t.resolve(&mut enc);
            }
            self.queue.submit([enc.finish()])
        })?;
        self.wait(index)
    }

    pub(crate) fn wait(&self, index: wgpu::SubmissionIndex) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| Error::Device(format!("waiting for the device: {e}")))
    }

    /// Copies `len` bytes at `offset` of `buffer` back to the host.
    pub(crate) fn download(&self, buffer: &wgpu::Buffer, offset: u64, len: u64) -> Result<Vec<u8>> {
        let padded = len.div_ceil(4) * 4;
        if !offset.is_multiple_of(4) || offset + padded > buffer.size() {
            return Err(Error::Shape(format!(
                "cannot read {len} bytes at offset {offset} from a buffer of {} bytes",
                buffer.size()
            )));
        }
        let staging = self.scoped(|| {
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("download"),
                size: padded.max(4),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            enc.copy_buffer_to_buffer(buffer, offset, &staging, 0, padded);
            (staging, self.queue.submit([enc.finish()]))
        })?;
        let (staging, index) = staging;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait(index)?;
        rx.recv()
            .map_err(|_| Error::Device("buffer mapping was dropped".into()))?
            .map_err(|e| Error::Device(format!("mapping the download buffer: {e}")))?;
        let data = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Device(format!("reading the download buffer: {e}")))?
            [..len as usize]
            .to_vec();
        staging.unmap();
        Ok(data)
    }
}
