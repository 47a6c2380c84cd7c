#!/usr/bin/env bash
# Builds Google's brotli (the C sources that the npm package iltorb ships in brotli/c/,
# MIT license) with tools/bench/brotli-workload.c for wasm32-wasi, for
# tools/bench/programs.ts --module. The package is fetched with `npm pack` into a cache
# directory, never into this repository; the build is cached there too. Prints the
# path of the .wasm on stdout. Needs clang, lld, wasi-libc and
# libclang-rt-14-dev-wasm32 (see tools/build-test-programs.sh).
#
#   npx tsx tools/bench/programs.ts --module "$(bash tools/bench/build-brotli.sh)" --sizes 64,512
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${ILTORB_VERSION:-2.4.5}"
dir="${TMPDIR:-/tmp}/wasmig-brotli-bench/$version"
wasm="$dir/brotli-workload.wasm"
if [[ -f "$wasm" && "$wasm" -nt "$here/brotli-workload.c" ]]; then echo "$wasm"; exit 0; fi
mkdir -p "$dir"
c="$dir/package/brotli/c"
if [[ ! -f "$c/enc/encode.c" ]]; then
  (cd "$dir" && npm pack --silent "iltorb@$version" >/dev/null && tar xzf "iltorb-$version.tgz" package/brotli)
fi
echo "building brotli for wasm32-wasi (under a minute, once) in $dir ..." >&2
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug \
  -I"$c/include" -o "$wasm.tmp" "$here/brotli-workload.c" "$c"/common/*.c "$c"/dec/*.c "$c"/enc/*.c -lm
mv "$wasm.tmp" "$wasm"
echo "$wasm"
