;; The legacy exception instructions (try, catch, catch_all, delegate, rethrow, throw,
;; tags) with loops and calls inside try bodies and handlers, so that the native tier's
;; pauses land everywhere: in bodies, in handlers holding their exception, in callees
;; between a throw and its handler. Written for wasmig's tests (legacy-exceptions.test.ts
;; converts it with wast2json --enable-exceptions); the stored suite has no legacy scripts.

(module $M
  (tag $e (export "e") (param i32))
  (tag $p (param i64 f64))
  (tag $z)

  ;; n + (n-1) + ... + 1, in a loop: a safepoint at every iteration.
  (func $spin (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))

  ;; Spins, then throws $e(x) for odd x, $p(x, x/2) for x % 4 == 2, $z for x % 8 == 4.
  (func $thrower (param $x i32) (result i32)
    (drop (call $spin (local.get $x)))
    (if (i32.and (local.get $x) (i32.const 1)) (then (throw $e (local.get $x))))
    (if (i32.eq (i32.rem_u (local.get $x) (i32.const 4)) (i32.const 2))
      (then (throw $p (i64.extend_i32_u (local.get $x)) (f64.div (f64.convert_i32_u (local.get $x)) (f64.const 2)))))
    (if (i32.eq (i32.rem_u (local.get $x) (i32.const 8)) (i32.const 4)) (then (throw $z)))
    (local.get $x))

  (func $via (param $x i32) (result i32)
    (i32.add (call $thrower (local.get $x)) (i32.const 1)))

  ;; Every clause, each doing work (loops, calls) while it holds its exception.
  (func (export "clauses") (param $x i32) (result i32) (local $v i32) (local $w i64) (local $d f64)
    (try (result i32)
      (do (call $via (local.get $x)))
      (catch $e
        (local.set $v)
        (i32.add (call $spin (i32.const 20)) (i32.mul (local.get $v) (i32.const 1000))))
      (catch $p
        (local.set $d)
        (local.set $w)
        (i32.add
          (i32.add
            (i32.wrap_i64 (local.get $w))
            (i32.trunc_f64_s (f64.add (local.get $d) (f64.convert_i32_s (call $spin (i32.const 10))))))
          (i32.const 20000)))
      (catch_all (i32.add (call $spin (i32.const 30)) (i32.const 30000)))))

  ;; A handler that works, then rethrows to a catch_all two frames up.
  (func $rethrower (param $x i32) (result i32) (local $v i32)
    (try (result i32)
      (do (call $via (local.get $x)))
      (catch $e
        (local.set $v)
        (drop (call $spin (i32.const 15)))
        (if (i32.gt_u (local.get $x) (i32.const 4)) (then (rethrow 1)))
        (i32.add (local.get $v) (i32.const 7)))))
  (func $mid (param $x i32) (result i32) (i32.mul (call $rethrower (local.get $x)) (i32.const 2)))
  (func (export "rethrown") (param $x i32) (result i32)
    (try (result i32)
      (do (call $mid (local.get $x)))
      (catch_all
        (i32.sub (i32.const 0) (call $spin (local.get $x))))))

  ;; delegate: to an outer try's handler, and past a catch to the caller.
  (func (export "delegated") (param $x i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $via (local.get $x)))
          (delegate 0)))
      (catch $z (i32.const -8))
      (catch_all (i32.add (call $spin (i32.const 3)) (i32.const -100)))))
  (func $outward (param $x i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $via (local.get $x)))
          (delegate 1)))
      (catch_all (i32.const -1))))
  (func (export "outward") (param $x i32) (result i32)
    (try (result i32)
      (do (call $outward (local.get $x)))
      (catch $e (i32.add (i32.const 5000)))))

  ;; Nested handlers: a try inside a catch_all, catching its own exception there.
  (func (export "nested") (param $x i32) (result i32) (local $r i32)
    (try
      (do (local.set $r (call $via (local.get $x))))
      (catch_all
        (try
          (do (local.set $r (call $via (i32.add (local.get $x) (i32.const 2)))))
          (catch $e
            (local.set $r (i32.add (call $spin (i32.const 5)))))
          (catch_all (local.set $r (i32.const 77))))))
    (local.get $r))

  ;; A loop of throws and catches: the sum over i < n of clauses(i) + delegated(i) + nested(i).
  (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $s (i32.add (local.get $s) (call 3 (local.get $i))))
        (local.set $s (i32.add (local.get $s) (call 7 (local.get $i))))
        (local.set $s (i32.add (local.get $s) (call 10 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))

  ;; Recursion with an exception thrown from the bottom, caught at every 4th level.
  (func $deep (export "deep") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (throw $e (i32.const 1)))
      (else
        (if (result i32) (i32.eqz (i32.rem_u (local.get $n) (i32.const 4)))
          (then
            (try (result i32)
              (do (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
              (catch $e (i32.add (local.get $n)))))
          (else (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))))

  (func (export "raise") (param $x i32) (result i32) (call $via (local.get $x)))
)

(assert_return (invoke "clauses" (i32.const 0)) (i32.const 1))
(assert_return (invoke "clauses" (i32.const 3)) (i32.const 3210))
(assert_return (invoke "clauses" (i32.const 6)) (i32.const 20064))
(assert_return (invoke "clauses" (i32.const 12)) (i32.const 30465))
(assert_return (invoke "clauses" (i32.const 9)) (i32.const 9210))
(assert_return (invoke "rethrown" (i32.const 3)) (i32.const 20))
(assert_return (invoke "rethrown" (i32.const 5)) (i32.const -15))
(assert_return (invoke "rethrown" (i32.const 8)) (i32.const 18))
(assert_return (invoke "delegated" (i32.const 2)) (i32.const -94))
(assert_return (invoke "delegated" (i32.const 4)) (i32.const -8))
(assert_return (invoke "delegated" (i32.const 5)) (i32.const -94))
(assert_return (invoke "delegated" (i32.const 8)) (i32.const 9))
(assert_return (invoke "outward" (i32.const 7)) (i32.const 5007))
(assert_return (invoke "outward" (i32.const 8)) (i32.const 9))
(assert_exception (invoke "outward" (i32.const 6)))
(assert_return (invoke "nested" (i32.const 0)) (i32.const 1))
(assert_return (invoke "nested" (i32.const 1)) (i32.const 18))
(assert_return (invoke "nested" (i32.const 2)) (i32.const 77))
(assert_return (invoke "sum" (i32.const 40)) (i32.const 756405))
(assert_return (invoke "deep" (i32.const 10)) (i32.const 11))
(assert_return (invoke "deep" (i32.const 3000)) (i32.const 3001))
(assert_exception (invoke "deep" (i32.const 3)))
(assert_exception (invoke "raise" (i32.const 1)))
(register "M" $M)

;; The tag exported by $M, imported here: the same tag, caught across modules.
(module
  (import "M" "e" (tag $e (param i32)))
  (import "M" "raise" (func $raise (param i32) (result i32)))
  (func (export "catches") (param $x i32) (result i32)
    (try (result i32)
      (do (call $raise (local.get $x)))
      (catch $e)
      (catch_all (i32.const 99))))
)
(assert_return (invoke "catches" (i32.const 5)) (i32.const 5))
(assert_return (invoke "catches" (i32.const 4)) (i32.const 99))
(assert_return (invoke "catches" (i32.const 8)) (i32.const 9))
