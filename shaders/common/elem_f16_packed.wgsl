// f16 elements of operand $N at binding $B, two per u32 word, opened with unpack2x16float:
// the portable path for adapters without shader-f16 (exact for every f16, subnormals included).
// HALF_BITS: opened by integer operations instead (llvmpipe GL, whose unpack2x16float is a long
// emulation; shaders/README.md), exactly as well.
//#if HALF_BITS
// The f16s in the low 16 bits of each lane of `h` (higher bits ignored) as f32: normal values
// rebiased by 112 in the exponent field, infinities and NaNs by 224 (to 255), subnormals
// m·2⁻²⁴ as (2⁻¹⁴ + m·2⁻²⁴) − 2⁻¹⁴ (both in [2⁻¹⁴, 2⁻¹³): the difference is exact), then the sign.
fn $N_half4(h: vec4<u32>) -> vec4<f32> {
    let em = h & vec4<u32>(0x7fffu);
    let sh = em << vec4<u32>(13u);
    let rebias = select(vec4<u32>(0x38000000u), vec4<u32>(0x70000000u), em >= vec4<u32>(0x7c00u));
    let sub = bitcast<vec4<f32>>(sh + vec4<u32>(0x38800000u)) - vec4<f32>(6.103515625e-5);
    let mag = select(bitcast<vec4<f32>>(sh + rebias), sub, em < vec4<u32>(0x400u));
    let sign = (h & vec4<u32>(0x8000u)) << vec4<u32>(16u);
    return bitcast<vec4<f32>>(bitcast<vec4<u32>>(mag) | sign);
}
//#endif
//#if VEC8
// Eight halves per load: on llvmpipe each load instruction pays a per-lane overhead that its
// components share, so wider loads cost less per element (shaders/README.md).
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<u32>>;
fn $N_vec8(i: u32) -> mat2x4<f32> {
    let v = $N_buf[i];
//#if HALF_BITS
    let lo = $N_half4(v);
    let hi = $N_half4(v >> vec4<u32>(16u));
    return mat2x4<f32>(
        vec4<f32>(lo.x, hi.x, lo.y, hi.y),
        vec4<f32>(lo.z, hi.z, lo.w, hi.w),
    );
//#else
    return mat2x4<f32>(
        vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y)),
        vec4<f32>(unpack2x16float(v.z), unpack2x16float(v.w)),
    );
//#endif
}
//#else
//#if VEC4
@group(0) @binding($B) var<storage, read> $N_buf: array<vec2<u32>>;
fn $N_vec4(i: u32) -> vec4<f32> {
    let v = $N_buf[i];
//#if HALF_BITS
    return $N_half4(vec4<u32>(v.x, v.x >> 16u, v.y, v.y >> 16u));
//#else
    return vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y));
//#endif
}
//#else
@group(0) @binding($B) var<storage, read> $N_buf: array<u32>;
fn $N_at(e: u32) -> f32 {
//#if HALF_BITS
    return $N_half4(vec4<u32>($N_buf[e >> 1u] >> (16u * (e & 1u)))).x;
//#else
    let p = unpack2x16float($N_buf[e >> 1u]);
    return select(p.x, p.y, (e & 1u) == 1u);
//#endif
}
//#endif
//#endif
