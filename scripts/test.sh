#!/usr/bin/env bash
# The README's test command: installs the software adapters if missing, then runs every test
# (GPU-path tests on every adapter found, the CPU backend at every SIMD level of this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
export LOWBIT_REQUIRE_GPU="${LOWBIT_REQUIRE_GPU:-1}"
cargo test --release --workspace
