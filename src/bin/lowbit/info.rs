//! `lowbit info`: adapters, their limits and features, and the CPU.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

/// Arguments of `lowbit info`.
#[derive(clap::Args)]
pub struct Args {
    /// Also write the listing as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let adapters = lowbit::list_adapters();
    let mut list = Vec::new();
    for a in &adapters {
        let l = &a.limits;
        let features: Vec<&str> = [
            (wgpu::Features::SHADER_F16, "shader-f16"),
            (wgpu::Features::SUBGROUP, "subgroups"),
            (wgpu::Features::SHADER_F64, "shader-f64"),
            (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
        ]
        .iter()
        .filter(|(f, _)| a.features.contains(*f))
        .map(|(_, n)| *n)
        .collect();
        let backend = lowbit::backend_name(a.info.backend);
        let device_type = lowbit::device_type_name(a.info.device_type);
        println!("[{}] {} ({backend}, {device_type})", a.index, a.info.name);
        println!("    driver: {} {}", a.info.driver, a.info.driver_info);
        println!(
            "    features: {}",
            if features.is_empty() {
                "none".into()
            } else {
                features.join(", ")
            }
        );
        println!(
            "    limits: max_buffer_size {} B, max_storage_buffer_binding_size {} B, workgroup storage {} B, {} invocations/workgroup, {} workgroups/dim",
            l.max_buffer_size,
            l.max_storage_buffer_binding_size,
            l.max_compute_workgroup_storage_size,
            l.max_compute_invocations_per_workgroup,
            l.max_compute_workgroups_per_dimension
        );
        if a.info.subgroup_max_size > 0 {
            println!(
                "    subgroup size: {}..{}",
                a.info.subgroup_min_size, a.info.subgroup_max_size
            );
        }
        list.push(json!({
            "index": a.index,
            "name": a.info.name,
            "backend": backend,
            "device_type": device_type,
            "driver": format!("{} {}", a.info.driver, a.info.driver_info).trim(),
            "features": features,
            "limits": {
                "max_buffer_size": l.max_buffer_size,
                "max_storage_buffer_binding_size": l.max_storage_buffer_binding_size,
                "max_compute_workgroup_storage_size": l.max_compute_workgroup_storage_size,
                "max_compute_invocations_per_workgroup": l.max_compute_invocations_per_workgroup,
                "max_compute_workgroups_per_dimension": l.max_compute_workgroups_per_dimension,
                "min_storage_buffer_offset_alignment": l.min_storage_buffer_offset_alignment,
                "subgroup_min_size": a.info.subgroup_min_size,
                "subgroup_max_size": a.info.subgroup_max_size,
            },
        }));
    }
    if adapters.is_empty() {
        println!("no GPU adapter found");
    }
    let cpu = lowbit::CpuConfig::detect();
    let name = lowbit::kernels::simd::cpu_name();
    let simd: Vec<&str> = lowbit::kernels::simd::machine_levels()
        .iter()
        .map(|l| l.name())
        .collect();
    println!("[cpu] {name} (select with --adapter cpu)");
    println!(
        "    threads: {}, SIMD levels: {} (using {})",
        cpu.threads,
        simd.join(", "),
        cpu.level.name()
    );
    println!(
        "    features: {}",
        lowbit::kernels::simd::cpu_features().join(", ")
    );
    if let Some(path) = args.json {
        let doc = json!({
            "adapters": list,
            "cpu": {
                "name": name,
                "threads": cpu.threads,
                "simd": simd,
                "level": cpu.level.name(),
                "features": lowbit::kernels::simd::cpu_features(),
            },
        });
        crate::write_json(&path, &doc)?;
    }
    Ok(ExitCode::SUCCESS)
}
