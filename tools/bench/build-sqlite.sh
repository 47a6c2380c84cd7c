#!/usr/bin/env bash
# Builds SQLite (the amalgamation that the npm package better-sqlite3 ships in
# deps/sqlite3/) with tools/bench/sqlite-workload.c for wasm32-wasi, for
# tools/bench/startup.ts --module. The package is fetched with `npm pack` into a cache
# directory, never into this repository; the build is cached there too. Prints the
# path of the .wasm on stdout. Needs clang, lld, wasi-libc and
# libclang-rt-14-dev-wasm32 (see tools/build-test-programs.sh).
#
#   npx tsx tools/bench/startup.ts --module "$(bash tools/bench/build-sqlite.sh)"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${BETTER_SQLITE3_VERSION:-12.11.1}"
dir="${TMPDIR:-/tmp}/wasmig-sqlite-bench/$version"
wasm="$dir/sqlite-workload.wasm"
if [[ -f "$wasm" && "$wasm" -nt "$here/sqlite-workload.c" ]]; then echo "$wasm"; exit 0; fi
mkdir -p "$dir"
if [[ ! -f "$dir/package/deps/sqlite3/sqlite3.c" ]]; then
  (cd "$dir" && npm pack --silent "better-sqlite3@$version" >/dev/null && tar xzf "better-sqlite3-$version.tgz" package/deps/sqlite3)
fi
echo "building SQLite for wasm32-wasi (a minute or two, once) in $dir ..." >&2
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug \
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE \
  -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS \
  -I"$dir/package/deps/sqlite3" -o "$wasm.tmp" "$here/sqlite-workload.c" "$dir/package/deps/sqlite3/sqlite3.c" \
  -lwasi-emulated-mman -lwasi-emulated-getpid -lwasi-emulated-process-clocks
mv "$wasm.tmp" "$wasm"
echo "$wasm"
