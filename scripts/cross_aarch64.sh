#!/usr/bin/env bash
# The CPU kernels' aarch64 (NEON) paths on this x86_64 machine: cross-compiled, linted, and
# tests run under qemu-user (`lowbit-kernels` has no GPU dependency). Installs the cross
# toolchain and qemu if missing. Part of CI; not needed to use lowbit.
#   bash scripts/cross_aarch64.sh         the LUT, ternary, BCQ and ceiling kernels' tests (CI: about a
#                                         minute)
#   bash scripts/cross_aarch64.sh --all   every lowbit-kernels test (the NEON matmul and
#                                         Bessel ones take ~10 minutes under qemu)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

need_pkgs=()
for p in qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do
    dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
target=aarch64-unknown-linux-gnu
cargo clippy -p lowbit-kernels --target "$target" --all-targets --release -- -D warnings
if [ "${1:-}" = "--all" ]; then
    cargo test -p lowbit-kernels --target "$target" --release
else
    cargo test -p lowbit-kernels --target "$target" --release \
        --test lut_matmul --test ternary_matmul --test bcq_matmul --test peak
fi
