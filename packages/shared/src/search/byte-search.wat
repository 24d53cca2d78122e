;; Substring search in WebAssembly SIMD, written by hand, over bytes that already live in a wasm memory
;; (a block the snappy decoder just wrote: see byte-search.ts).
;;
;; Why: a filtered scan searches every decompressed block for its literals (`|= "Traceback"`, a regex's
;; required literal). Buffer.indexOf restarts its search at every false start of the needle's first byte,
;; and log lines repeat bytes such as the `T` of every ISO timestamp: it ran at 2.3 GB/s on the bench's
;; blocks, as slow as decompressing them. Here 16 candidate starts are tested at once on two of the needle's
;; bytes (the caller picks rare ones): a start is returned only when both are in place, and the caller
;; compares the rest.
;;
;; Contract: findPair(from, last, b1, d1, b2, d2) returns the first p in [from, last] with
;; mem[p + d1] == b1 and mem[p + d2] == b2, or -1. The caller passes last = end - needle length, and d1, d2
;; below the needle length, so no load reaches past the end of the bytes searched: the vector loop runs
;; while p + 15 <= last, and its loads end at p + d + 15 <= last + d < end.
(module
  (import "env" "memory" (memory 1))

  (func (export "findPair") (param $p i32) (param $last i32) (param $b1 i32) (param $d1 i32) (param $b2 i32) (param $d2 i32) (result i32)
    (local $v1 v128)
    (local $v2 v128)
    (local $mask i32)
    (local.set $v1 (i8x16.splat (local.get $b1)))
    (local.set $v2 (i8x16.splat (local.get $b2)))
    (block $tail
      (loop $vectors
        (br_if $tail (i32.gt_s (i32.add (local.get $p) (i32.const 15)) (local.get $last)))
        (local.set $mask
          (i8x16.bitmask
            (v128.and
              (i8x16.eq (v128.load (i32.add (local.get $p) (local.get $d1))) (local.get $v1))
              (i8x16.eq (v128.load (i32.add (local.get $p) (local.get $d2))) (local.get $v2)))))
        (if (local.get $mask)
          (then (return (i32.add (local.get $p) (i32.ctz (local.get $mask))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
    ;; Fewer than 16 starts left: one at a time.
    (block $none
      (loop $bytes
        (br_if $none (i32.gt_s (local.get $p) (local.get $last)))
        (if (i32.and
              (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $d1))) (local.get $b1))
              (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $d2))) (local.get $b2)))
          (then (return (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (i32.const -1)))
