// f16 elements of operand $N at binding $B, two per u32 word, opened with unpack2x16float:
// the portable path for adapters without shader-f16 (exact for every f16, subnormals included).
//#if VEC8
// Eight halves per load: on llvmpipe each load instruction pays a per-lane overhead that its
// components share, so wider loads cost less per element (shaders/README.md).
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<u32>>;
fn $N_vec8(i: u32) -> mat2x4<f32> {
    let v = $N_buf[i];
    return mat2x4<f32>(
        vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y)),
        vec4<f32>(unpack2x16float(v.z), unpack2x16float(v.w)),
    );
}
//#else
//#if VEC4
@group(0) @binding($B) var<storage, read> $N_buf: array<vec2<u32>>;
fn $N_vec4(i: u32) -> vec4<f32> {
    let v = $N_buf[i];
    return vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y));
}
//#else
@group(0) @binding($B) var<storage, read> $N_buf: array<u32>;
fn $N_at(e: u32) -> f32 {
    let p = unpack2x16float($N_buf[e >> 1u]);
    return select(p.x, p.y, (e & 1u) == 1u);
}
//#endif
//#endif
