//! Every shader variant lowbit composes parses and validates with naga, once with the
//! capabilities the variant needs, and the portable ones also with none of the optional ones.

use naga::valid::{Capabilities, ValidationFlags, Validator};

fn validate(name: &str, source: &str, caps: Capabilities) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(source)
        .map_err(|e| format!("{name}: parse error\n{}", e.emit_to_string(source)))?;
    let mut v = Validator::new(ValidationFlags::all(), caps);
    v.subgroup_stages(naga::valid::ShaderStages::COMPUTE);
    v.subgroup_operations(naga::valid::SubgroupOperationSet::all());
    v.validate(&module)
        .map_err(|e| format!("{name}: validation error\n{}", e.emit_to_string(source)))?;
    Ok(())
}

#[test]
fn every_shader_variant_parses_and_validates() {
    let catalog = lowbit::shaders::catalog();
    assert!(
        catalog.len() > 50,
        "catalog unexpectedly small: {}",
        catalog.len()
    );
    let mut failures = Vec::new();
    for v in &catalog {
        let mut caps = Capabilities::empty();
        if v.needs_f16 {
            caps |= Capabilities::SHADER_FLOAT16 | Capabilities::SHADER_FLOAT16_IN_FLOAT32;
        } else {
            caps |= Capabilities::SHADER_FLOAT16_IN_FLOAT32;
        }
        if v.needs_subgroups {
            caps |= Capabilities::SUBGROUP;
        }
        if v.needs_f64 {
            caps |= Capabilities::FLOAT64;
        }
        if let Err(e) = validate(&v.name, &v.source, caps) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} variants failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn portable_variants_need_no_optional_capability() {
    for v in lowbit::shaders::catalog() {
        if !v.needs_f16 && !v.needs_subgroups && !v.needs_f64 {
            // unpack2x16float is core WGSL; naga files it under FLOAT16_IN_FLOAT32.
            validate(&v.name, &v.source, Capabilities::SHADER_FLOAT16_IN_FLOAT32).unwrap();
        }
    }
}

#[test]
fn variant_names_are_unique() {
    let catalog = lowbit::shaders::catalog();
    let mut names: Vec<&str> = catalog.iter().map(|v| v.name.as_str()).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate shader variant names");
}
