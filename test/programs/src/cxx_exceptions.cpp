// C++ exceptions built with -fwasm-exceptions (clang emits the legacy try/catch/rethrow
// instructions): thrown three frames below their handler, through frames whose
// destructors run on the way (cleanup pads: catch_all, destructor, rethrow).
// Debian's wasm32 libc++abi is built without exception support, so the program links
// a small runtime of its own (cxx_exceptions_rt.c).
#include <cstdio>
#include <cstdlib>

struct Failure { int value; };

static long destroyed = 0;

struct Guard {
  int id;
  ~Guard() { destroyed += id; }
};

__attribute__((noinline)) int leaf(int x) {
  if (x % 3 == 2) throw Failure{x};
  return x;
}

__attribute__((noinline)) int mid(int x) {
  Guard g{x};
  return leaf(x) * 2;
}

__attribute__((noinline)) int top(int x) {
  Guard g{1000};
  return mid(x) + mid(x + 1);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300;
  long sum = 0;
  int caught = 0;
  for (int i = 0; i < n; i++) {
    try {
      sum += top(i);
    } catch (const Failure &f) {
      caught++;
      sum += f.value;
    }
  }
  printf("sum %ld, caught %d, destroyed %ld\n", sum, caught, destroyed);
  return 0;
}
