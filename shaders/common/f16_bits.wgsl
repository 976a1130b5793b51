// f16 scale fields decoded by hand: unpack2x16float may flush subnormals, which GGUF scales
// can be. Shared by the quantized-weight kernels.

// IEEE binary16 bits to f32, exactly (subnormals are m·2⁻²⁴, normal in f32).
fn f16_bits(h: u32) -> f32 {
    let e = (h >> 10u) & 31u;
    let m = h & 1023u;
    var v: f32;
    if e == 0u {
        v = f32(m) * 5.9604644775390625e-8;
    } else if e == 31u {
        v = bitcast<f32>(0x7f800000u | (m << 13u));
    } else {
        v = bitcast<f32>(((e + 112u) << 23u) | (m << 13u));
    }
    return select(v, -v, (h & 0x8000u) != 0u);
}

