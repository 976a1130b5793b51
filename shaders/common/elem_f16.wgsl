// f16 elements of operand $N at binding $B, read natively (needs shader-f16).
//#if VEC8
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<f16>>;
fn $N_vec8(i: u32) -> mat2x4<f32> {
    return mat2x4<f32>(vec4<f32>($N_buf[2u * i]), vec4<f32>($N_buf[2u * i + 1u]));
}
//#else
//#if VEC4
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<f16>>;
fn $N_vec4(i: u32) -> vec4<f32> { return vec4<f32>($N_buf[i]); }
//#else
@group(0) @binding($B) var<storage, read> $N_buf: array<f16>;
fn $N_at(e: u32) -> f32 { return f32($N_buf[e]); }
//#endif
//#endif
