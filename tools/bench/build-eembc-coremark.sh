#!/usr/bin/env bash
# Builds EEMBC's own CoreMark for wasm32-wasi with Debian's clang, as a benchmark
# input that is not ours: `coremark/` is an independent implementation tuned here,
# and issue 20 asks for numbers on a build we did not write.
#
# Usage: bash tools/bench/build-eembc-coremark.sh SRC_DIR [OUT.wasm]
#   SRC_DIR  a checkout of https://github.com/eembc/coremark (its core_*.c,
#            coremark.h and posix/ port); nothing of it is kept in this repository
#   OUT      default /tmp/wasmig-eembc-coremark/coremark-eembc.wasm
#   Environment: CC (default clang), WASI_SYSROOT (as coremark/build.sh).
#
# The build is the upstream POSIX port unchanged (clock_gettime(CLOCK_REALTIME),
# malloc, printf, seeds from argv), which is what WASI preview1 offers, at -O3 with
# clang's default wasm32 features: the same recipe wasm3's published wasm builds use.
# The core files are checked against upstream's own coremark.md5 when it is there,
# so a modified copy is reported before it is measured.
set -euo pipefail

src="${1:-}"
out="${2:-/tmp/wasmig-eembc-coremark/coremark-eembc.wasm}"
if [ -z "$src" ] || [ ! -f "$src/core_main.c" ] || [ ! -d "$src/posix" ]; then
  echo "build-eembc-coremark: give a checkout of github.com/eembc/coremark (no core_main.c or posix/ in '${src}')" >&2
  exit 2
fi
cc="${CC:-clang}"
for tool in "$cc" wasm-ld; do
  command -v "$tool" >/dev/null || {
    echo "build-eembc-coremark: $tool missing (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)" >&2
    exit 1
  }
done
# The same toolchain as coremark/build.sh: Debian's wasi-libc in clang's default
# places, or a wasi-sdk style sysroot when WASI_SYSROOT names one.
sysroot_flag=()
[ -n "${WASI_SYSROOT:-}" ] && sysroot_flag=(--sysroot="$WASI_SYSROOT")

if [ -f "$src/coremark.md5" ]; then
  if (cd "$src" && md5sum --quiet -c coremark.md5); then
    echo "build-eembc-coremark: core files match upstream's coremark.md5"
  else
    echo "build-eembc-coremark: WARNING: core files differ from coremark.md5 (listed above)" >&2
  fi
fi

flags="-O3"
mkdir -p "$(dirname "$out")"
overrides="$(mktemp -d)"
trap 'rm -rf "$overrides"' EXIT
# posix/core_portme.h includes this header for platform overrides; upstream's may
# be absent from a trimmed copy, and WASI needs none.
[ -f "$src/posix/core_portme_posix_overrides.h" ] || : >"$overrides/core_portme_posix_overrides.h"

"$cc" --target=wasm32-wasi "${sysroot_flag[@]}" $flags \
  -I"$src" -I"$src/posix" -I"$overrides" \
  -DFLAGS_STR="\"$flags --target=wasm32-wasi\"" -DPERFORMANCE_RUN=1 -DITERATIONS=0 \
  -DMEM_LOCATION='"Heap"' \
  "$src"/core_list_join.c "$src"/core_main.c "$src"/core_matrix.c \
  "$src"/core_state.c "$src"/core_util.c "$src"/posix/core_portme.c \
  -Wl,--strip-debug -o "$out"
echo "built $out ($(wc -c <"$out") bytes)"
