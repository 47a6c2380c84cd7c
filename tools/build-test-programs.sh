#!/usr/bin/env bash
# Builds the C test programs in test/programs/src/ to test/programs/NAME.wasm
# with Debian's clang for wasm32-wasi (wasi-libc).  The .wasm files are
# committed, so running the tests needs no compiler; run this only after
# changing a program.  Installs the Debian packages when clang or wasi-libc
# is missing (needs root and Debian's apt).
#
# Usage: tools/build-test-programs.sh [NAME...]   (default: every program)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/test/programs/src"
out="$here/test/programs"
sysroot=/usr
target=wasm32-wasi

need_install=0
command -v clang >/dev/null || need_install=1
command -v wasm-ld >/dev/null || need_install=1
[ -f /usr/lib/wasm32-wasi/libc.a ] || need_install=1
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need_install=1
if [ "$need_install" = 1 ]; then
  echo "installing clang, lld, wasi-libc and the wasm32 compiler-rt from Debian" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt
fi

# Common flags: -O2, no debug info.
cflags=(--target="$target" --sysroot="$sysroot" -O2 -Wall -Wextra -Werror -Wno-unused-parameter)

# Extra flags per program.
extra_flags() {
  case "$1" in
    memcopy) echo "-mbulk-memory" ;;
    simd) echo "-msimd128" ;;
    vectorize) echo "-O3 -msimd128" ;;
    musttail) echo "-mtail-call" ;;
    recursion) echo "-Wl,-z,stack-size=16777216" ;;
    *) echo "" ;;
  esac
}

# Names are stripped so the files stay small, except in `trap`, whose backtrace
# must show function names (--strip-debug keeps the "name" section).
link_flags() {
  case "$1" in
    trap) echo "-Wl,--strip-debug" ;;
    *) echo "-Wl,--strip-all" ;;
  esac
}

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  # NAME_rt.c is a runtime linked into a C++ program, not a program.
  for f in "$src"/*.c; do [[ "$f" == *_rt.c ]] || names+=("$(basename "$f" .c)"); done
fi

for name in "${names[@]}"; do
  [ -f "$src/$name.c" ] || continue
  # shellcheck disable=SC2207
  extra=($(extra_flags "$name") $(link_flags "$name"))
  clang "${cflags[@]}" "${extra[@]}" -o "$out/$name.wasm" "$src/$name.c"
  printf '%-18s %8d bytes\n' "$name.wasm" "$(stat -c %s "$out/$name.wasm")"
done

# C++ with exceptions (-fwasm-exceptions: clang 14 emits the legacy try/catch/rethrow):
# the C++ headers come from Debian's libc++-14-dev-wasm32; its libc++abi has no
# exception support, so the program links a small runtime of its own (NAME_rt.c).
if [ "$#" -eq 0 ] || [[ " $* " == *" cxx_exceptions "* ]]; then
  [ -f /usr/lib/wasm32-wasi/libc++.a ] || DEBIAN_FRONTEND=noninteractive apt-get install -y libc++-14-dev-wasm32 libc++abi-14-dev-wasm32
  tmp="$(mktemp -d)"
  clang++ "${cflags[@]}" -fwasm-exceptions -fno-rtti -c -o "$tmp/main.o" "$src/cxx_exceptions.cpp"
  clang "${cflags[@]}" -fwasm-exceptions -c -o "$tmp/rt.o" "$src/cxx_exceptions_rt.c"
  clang++ --target="$target" --sysroot="$sysroot" -fwasm-exceptions -Wl,--strip-all -o "$out/cxx_exceptions.wasm" "$tmp/main.o" "$tmp/rt.o"
  rm -rf "$tmp"
  printf '%-18s %8d bytes\n' "cxx_exceptions.wasm" "$(stat -c %s "$out/cxx_exceptions.wasm")"
fi
