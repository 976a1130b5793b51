//! GPU timestamps around a compute pass, converted to nanoseconds with the queue's period.

use crate::error::{Error, Result};

/// Two timestamp queries (pass begin, pass end) and the buffers to read them back.
pub(crate) struct GpuTimer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f64,
}

impl GpuTimer {
    /// `None` when the device was not granted timestamp queries.
    pub(crate) fn new(gpu: &super::Gpu) -> Option<Self> {
        if !gpu.caps.timestamps {
            return None;
        }
        let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("timer"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let mk = |usage| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timer"),
                size: 16,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(GpuTimer {
            set,
            resolve: mk(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            readback: mk(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            period_ns: gpu.queue.get_timestamp_period() as f64,
        })
    }

    pub(crate) fn pass_writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        }
    }

    pub(crate) fn resolve(&self, enc: &mut wgpu::CommandEncoder) {
        enc.resolve_query_set(&self.set, 0..2, &self.resolve, 0);
        enc.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, 16);
    }

    /// Nanoseconds between the two timestamps of the last timed pass (call after `Gpu::run`).
    pub(crate) fn read_ns(&self, gpu: &super::Gpu) -> Result<f64> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.readback
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        gpu.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .map_err(|e| Error::Device(e.to_string()))?;
        rx.recv()
            .map_err(|_| Error::Device("timestamp mapping dropped".into()))?
            .map_err(|e| Error::Device(e.to_string()))?;
        let ticks: [u64; 2] = {
            let view = self
                .readback
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Device(e.to_string()))?;
            bytemuck::pod_read_unaligned(&view[..16])
        };
        self.readback.unmap();
        Ok(ticks[1].saturating_sub(ticks[0]) as f64 * self.period_ns)
    }
}
