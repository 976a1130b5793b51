// bf16 elements of operand $N at binding $B, two per u32 word: a bf16 is the top half of an f32,
// so a shift or mask makes the exact f32.
//#if VEC8
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<u32>>;
fn $N_vec8(i: u32) -> mat2x4<f32> {
    let v = $N_buf[i];
    return mat2x4<f32>(
        bitcast<vec4<f32>>(vec4<u32>(v.x << 16u, v.x & 0xffff0000u, v.y << 16u, v.y & 0xffff0000u)),
        bitcast<vec4<f32>>(vec4<u32>(v.z << 16u, v.z & 0xffff0000u, v.w << 16u, v.w & 0xffff0000u)),
    );
}
//#else
//#if VEC4
@group(0) @binding($B) var<storage, read> $N_buf: array<vec2<u32>>;
fn $N_vec4(i: u32) -> vec4<f32> {
    let v = $N_buf[i];
    return bitcast<vec4<f32>>(vec4<u32>(v.x << 16u, v.x & 0xffff0000u, v.y << 16u, v.y & 0xffff0000u));
}
//#else
@group(0) @binding($B) var<storage, read> $N_buf: array<u32>;
fn $N_at(e: u32) -> f32 {
    let w = $N_buf[e >> 1u];
    return bitcast<f32>(select(w << 16u, w & 0xffff0000u, (e & 1u) == 1u));
}
//#endif
//#endif
