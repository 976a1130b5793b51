// int8 helpers: elements are packed four to a u32 word, little-endian (byte 0 = lowest bits).

// Sign-extended element e of a packed int8 array.
fn i8_of(word: u32, e: u32) -> i32 {
    return extractBits(bitcast<i32>(word), (e & 3u) * 8u, 8u);
}

// Dot product of four int8 pairs, exact in i32.
fn dot4(a: u32, b: u32) -> i32 {
//#if DOT_NATIVE
    return dot4I8Packed(a, b);
//#else
    // Portable path: the same sum with extractBits, for drivers where dot4I8Packed is slow or
    // suspect (the probe suite compares the two).
    let ai = bitcast<i32>(a);
    let bi = bitcast<i32>(b);
    return extractBits(ai, 0u, 8u) * extractBits(bi, 0u, 8u)
         + extractBits(ai, 8u, 8u) * extractBits(bi, 8u, 8u)
         + extractBits(ai, 16u, 8u) * extractBits(bi, 16u, 8u)
         + extractBits(ai, 24u, 8u) * extractBits(bi, 24u, 8u);
//#endif
}

// Dot product of four pairs, a's bytes unsigned (0..255) and b's signed, exact in i32. For
// CPU-type adapters: LLVM turns a product of a zero-extended byte and a sign-extended one into
// vpdpwssd (its pmaddwd pattern) where dot4I8Packed of two signed bytes stays a vpmulld
// (shaders/README.md); a format with signed codes lifts them by 128 and takes 128·Σx back.
fn dot4u(a: u32, b: u32) -> i32 {
    let bi = bitcast<i32>(b);
    return i32(a & 0xffu) * extractBits(bi, 0u, 8u) + i32((a >> 8u) & 0xffu) * extractBits(bi, 8u, 8u)
         + i32((a >> 16u) & 0xffu) * extractBits(bi, 16u, 8u) + i32(a >> 24u) * extractBits(bi, 24u, 8u);
}
