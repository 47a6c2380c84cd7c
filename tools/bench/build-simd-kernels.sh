#!/usr/bin/env bash
# Builds tools/bench/simd-kernels.wasm (committed) from simd-kernels.c: a freestanding
# module (no libc, no WASI) exporting setup, dot, blur and matmul, for tools/bench/simd.ts.
# Needs clang and wasm-ld (see tools/build-test-programs.sh for the Debian packages).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
clang --target=wasm32 -O3 -msimd128 -nostdlib -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--strip-all -o "$here/simd-kernels.wasm" "$here/simd-kernels.c"
printf 'simd-kernels.wasm %d bytes\n' "$(stat -c %s "$here/simd-kernels.wasm")"
