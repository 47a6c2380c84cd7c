// A tiny bytecode interpreter whose handlers dispatch by tail calls: each handler ends
// in a musttail call of the next opcode's handler through a table (return_call_indirect).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Vm { int64_t stack[64]; int sp; uint64_t steps; } Vm;
typedef int64_t (*Handler)(Vm *vm, const uint8_t *pc, int64_t acc);

enum { OP_PUSH, OP_ADD, OP_MUL, OP_DEC, OP_JNZ, OP_DUP, OP_SWAP, OP_POP, OP_MIX, OP_HALT };
static Handler table[OP_HALT + 1];

#define NEXT(vm, pc, acc) do { (vm)->steps++; __attribute__((musttail)) return table[*(pc)]((vm), (pc), (acc)); } while (0)

static int64_t op_push(Vm *vm, const uint8_t *pc, int64_t acc) { vm->stack[vm->sp++] = (int8_t)pc[1]; pc += 2; NEXT(vm, pc, acc); }
static int64_t op_add(Vm *vm, const uint8_t *pc, int64_t acc) { vm->sp--; vm->stack[vm->sp - 1] += vm->stack[vm->sp]; pc += 1; NEXT(vm, pc, acc); }
static int64_t op_mul(Vm *vm, const uint8_t *pc, int64_t acc) { vm->sp--; vm->stack[vm->sp - 1] *= vm->stack[vm->sp]; pc += 1; NEXT(vm, pc, acc); }
static int64_t op_dec(Vm *vm, const uint8_t *pc, int64_t acc) { vm->stack[vm->sp - 1]--; pc += 1; NEXT(vm, pc, acc); }
static int64_t op_jnz(Vm *vm, const uint8_t *pc, int64_t acc) { pc = vm->stack[vm->sp - 1] != 0 ? pc - pc[1] : pc + 2; NEXT(vm, pc, acc); }
static int64_t op_dup(Vm *vm, const uint8_t *pc, int64_t acc) { vm->stack[vm->sp] = vm->stack[vm->sp - 1]; vm->sp++; pc += 1; NEXT(vm, pc, acc); }
static int64_t op_swap(Vm *vm, const uint8_t *pc, int64_t acc) { int64_t t = vm->stack[vm->sp - 1]; vm->stack[vm->sp - 1] = vm->stack[vm->sp - 2]; vm->stack[vm->sp - 2] = t; pc += 1; NEXT(vm, pc, acc); }
static int64_t op_pop(Vm *vm, const uint8_t *pc, int64_t acc) { vm->sp--; pc += 1; NEXT(vm, pc, acc); }
// acc = acc * 6364136223846793005 + top (a 64-bit LCG step folding in the top of the stack)
static int64_t op_mix(Vm *vm, const uint8_t *pc, int64_t acc) { acc = (int64_t)((uint64_t)acc * 6364136223846793005ull + (uint64_t)vm->stack[vm->sp - 1]); pc += 1; NEXT(vm, pc, acc); }
static int64_t op_halt(Vm *vm, const uint8_t *pc, int64_t acc) { (void)pc; return acc ^ vm->stack[vm->sp - 1]; }

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
  table[OP_PUSH] = op_push; table[OP_ADD] = op_add; table[OP_MUL] = op_mul; table[OP_DEC] = op_dec;
  table[OP_JNZ] = op_jnz; table[OP_DUP] = op_dup; table[OP_SWAP] = op_swap; table[OP_POP] = op_pop;
  table[OP_MIX] = op_mix; table[OP_HALT] = op_halt;
  // x = 1, counter = rounds; loop: x = x*3+7, mixed into acc, counter--, until 0.
  uint8_t code[32];
  int n = 0;
  code[n++] = OP_PUSH; code[n++] = 1;                       // x = 1
  // counter = rounds, up to 12,799: hundreds * 100 + the rest
  if (rounds < 1 || rounds > 12799) { fprintf(stderr, "rounds must be 1..12799\n"); return 2; }
  code[n++] = OP_PUSH; code[n++] = (uint8_t)(rounds / 100); code[n++] = OP_PUSH; code[n++] = 100; code[n++] = OP_MUL;
  code[n++] = OP_PUSH; code[n++] = (uint8_t)(rounds % 100); code[n++] = OP_ADD;
  int loop = n;
  code[n++] = OP_SWAP; code[n++] = OP_PUSH; code[n++] = 3; code[n++] = OP_MUL; code[n++] = OP_PUSH; code[n++] = 7;
  code[n++] = OP_ADD; code[n++] = OP_MIX; code[n++] = OP_SWAP; code[n++] = OP_DEC;
  code[n] = OP_JNZ; code[n + 1] = (uint8_t)(n - loop); n += 2;
  code[n++] = OP_POP; code[n++] = OP_HALT;
  Vm vm = { .sp = 0, .steps = 0 };
  int64_t result = table[code[0]](&vm, code, 0);
  printf("rounds %ld: %llu handler tail calls, result %016llx\n", rounds, (unsigned long long)vm.steps, (unsigned long long)result);
  return 0;
}
