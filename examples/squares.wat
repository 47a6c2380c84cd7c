;; The library example's program (examples/embed.ts): sums i*i for i < 500,000 and
;; reports its progress to the embedder every 100,000 steps through env.report.
(module
  (import "env" "report" (func $report (param i32 i64)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32) (local $acc i64)
    (loop $next
      (local.set $acc (i64.add (local.get $acc)
        (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 100000)))
        (then (call $report (local.get $i) (local.get $acc))))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 500000))))))
