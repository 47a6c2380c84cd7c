#!/usr/bin/env bash
# Builds coremark/coremark.wasm (wasm32-wasi, -O3) with Debian's clang.
# Installs the Debian toolchain packages when they are missing and we are root.
# Environment: CC (default clang), WASI_SYSROOT (default: auto-detected).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cc="${CC:-clang}"

have_toolchain() {
  command -v "$cc" >/dev/null 2>&1 &&
    command -v wasm-ld >/dev/null 2>&1 &&
    { [ -f /usr/lib/wasm32-wasi/libc.a ] || [ -n "${WASI_SYSROOT:-}" ] ||
      [ -f /usr/share/wasi-sysroot/lib/wasm32-wasi/libc.a ]; } &&
    ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1
}

if ! have_toolchain; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build.sh: installing clang, lld, wasi-libc, libclang-rt-14-dev-wasm32" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq clang lld wasi-libc libclang-rt-14-dev-wasm32 >/dev/null
  else
    echo "build.sh: need clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (Debian packages)" >&2
    exit 1
  fi
fi

# Debian's wasi-libc installs into the default multiarch places
# (/usr/include/wasm32-wasi, /usr/lib/wasm32-wasi), which clang finds without a
# --sysroot; a wasi-sdk style sysroot is used when present or given.
sysroot_flag=()
if [ -n "${WASI_SYSROOT:-}" ]; then
  sysroot_flag=(--sysroot="$WASI_SYSROOT")
elif [ ! -f /usr/lib/wasm32-wasi/libc.a ] && [ -d /usr/share/wasi-sysroot ]; then
  sysroot_flag=(--sysroot=/usr/share/wasi-sysroot)
fi

opt_flags="-O3"
"$cc" --target=wasm32-wasi "${sysroot_flag[@]}" $opt_flags \
  -std=c11 -Wall -Wextra -Werror \
  -DCM_COMPILER_FLAGS="\"$opt_flags --target=wasm32-wasi\"" \
  "$here"/src/*.c \
  -Wl,--strip-debug \
  -o "$here/coremark.wasm"

echo "built $here/coremark.wasm ($(wc -c <"$here/coremark.wasm") bytes)"
