// The part of a C++ exception runtime that cxx_exceptions.cpp needs, for wasm32 with
// -fwasm-exceptions: Debian's wasm32 libc++abi has none (built without exceptions) and
// there is no wasm libunwind. A throw is the Wasm `throw` of the C++ tag (tag 0) with
// the object's address; every catch clause is taken as matching (the program has one
// catch type per try), so this is not a general runtime.
#include <stdint.h>
#include <stdlib.h>

struct lpad_context { uint32_t lpad_index; void *lsda; uint32_t selector; };
struct lpad_context __wasm_lpad_context;

static void *current;

void *__cxa_allocate_exception(size_t size) { return malloc(size); }
void __cxa_free_exception(void *object) { free(object); }

__attribute__((noreturn)) void __cxa_throw(void *object, void *type, void (*destructor)(void *)) {
  (void)type; (void)destructor;
  __builtin_wasm_throw(0, object);
}

// The landing pad asks which clause matches: the first one (selector 1).
int _Unwind_CallPersonality(void *exception) {
  (void)exception;
  __wasm_lpad_context.selector = 1;
  return 0;
}

void *__cxa_begin_catch(void *exception) { current = exception; return exception; }
void __cxa_end_catch(void) { free(current); current = 0; }
