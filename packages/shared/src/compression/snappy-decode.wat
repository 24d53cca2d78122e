;; Raw snappy decoder in WebAssembly, written by hand.
;;
;; Why: decompressing chunk blocks is most of the CPU of a filtered log scan, and the JS decoder this
;; replaced topped out near 1.3 GB/s (4-byte steps through a DataView, each bounds-checked); this runs at
;; 4.5-7 GB/s on the same blocks. Here a
;; back-reference at a distance of 8 or more moves 8 bytes per i64 load/store, short literals move 16 bytes
;; in two steps, long literals use memory.copy (bulk memory), and runs (distance 1-7) double their pattern
;; until it is 8 bytes wide. bench/src/snappy.ts measures it against snappyjs.
;; Assembled at build time by packages/shared/scripts/assemble-wasm.mjs (wabt) into snappy-decode-wasm.ts.
;;
;; Memory layout (the caller arranges it, snappy.ts does): the compressed tags at [pos, end), the output
;; at [out, cap), the input wholly before the output, and at least SLACK (16) addressable bytes after each
;; of them. Overshoot: an 8-byte step may read up to 15 bytes past `end` and write up to 15 bytes past the
;; piece it copies, which is allowed because
;;   - reads past `end` land in the output or the slack after it: garbage is read, but only bytes inside
;;     the piece are kept;
;;   - writes past a piece's end land either in the output, where the next pieces write over them before
;;     anything reads them (a copy reads only bytes before its own start), or in the slack after `cap`;
;;   - the stream must fill [out, cap) exactly, so no byte that an earlier stream left is ever exposed.
;;
;; Contract: decode(pos, end, out, cap) decodes the tags in [pos, end) (the varint length preamble is
;; already read by the caller and gives cap - out) and returns cap - out when the output is filled exactly,
;; or -1 when the stream is corrupt: a tag or literal runs past `end`, a copy has offset 0 or reaches before
;; `out`, a piece would write past `cap`, or the tags end before `cap` is reached. Lengths and offsets are
;; compared as unsigned differences, so a 4-byte length or offset cannot wrap an address.
(module
  (memory (export "memory") 1)

  (func (export "decode") (param $pos i32) (param $end i32) (param $out i32) (param $cap i32) (result i32)
    (local $o i32)      ;; next output byte
    (local $tag i32)
    (local $len i32)    ;; piece length (a literal's is read as length - 1 first)
    (local $extra i32)  ;; bytes of a long literal's length
    (local $offset i32) ;; a copy's distance back
    (local $src i32)    ;; copy cursor: reads
    (local $dst i32)    ;; copy cursor: writes
    (local $stop i32)   ;; end of the piece being copied
    (local.set $o (local.get $out))
    (block $corrupt
      (loop $tags
        (if (i32.ge_u (local.get $pos) (local.get $end))
          (then
            (br_if $corrupt (i32.ne (local.get $o) (local.get $cap)))
            (return (i32.sub (local.get $cap) (local.get $out)))))
        (local.set $tag (i32.load8_u (local.get $pos)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))

        (if (i32.eqz (i32.and (local.get $tag) (i32.const 3)))
          (then
            ;; Literal. The tag holds length - 1, or 60..63 for a length in the next 1..4 bytes.
            (local.set $len (i32.shr_u (local.get $tag) (i32.const 2)))
            (if (i32.ge_u (local.get $len) (i32.const 60))
              (then
                (local.set $extra (i32.sub (local.get $len) (i32.const 59)))
                (br_if $corrupt (i32.gt_u (local.get $extra) (i32.sub (local.get $end) (local.get $pos))))
                ;; A 4-byte load masked to `extra` bytes (it may read past `end`: see the layout above).
                (local.set $len
                  (i32.and
                    (i32.load (local.get $pos))
                    (i32.shr_u (i32.const -1) (i32.sub (i32.const 32) (i32.shl (local.get $extra) (i32.const 3))))))
                (local.set $pos (i32.add (local.get $pos) (local.get $extra)))))
            ;; len is length - 1 here: length > room  <=>  len >= room, and len + 1 cannot wrap below.
            (br_if $corrupt (i32.ge_u (local.get $len) (i32.sub (local.get $end) (local.get $pos))))
            (br_if $corrupt (i32.ge_u (local.get $len) (i32.sub (local.get $cap) (local.get $o))))
            (local.set $len (i32.add (local.get $len) (i32.const 1)))
            (if (i32.le_u (local.get $len) (i32.const 16))
              (then
                (i64.store (local.get $o) (i64.load (local.get $pos)))
                (i64.store offset=8 (local.get $o) (i64.load offset=8 (local.get $pos))))
              (else
                (memory.copy (local.get $o) (local.get $pos) (local.get $len))))
            (local.set $pos (i32.add (local.get $pos) (local.get $len)))
            (local.set $o (i32.add (local.get $o) (local.get $len)))
            (br $tags)))

        ;; Copy (back-reference). Kind 1: 3 length bits and an 11-bit offset; kind 2: a 2-byte offset;
        ;; kind 3: a 4-byte offset; kinds 2 and 3 hold length - 1 in the tag's upper 6 bits.
        (if (i32.eq (i32.and (local.get $tag) (i32.const 3)) (i32.const 1))
          (then
            (br_if $corrupt (i32.ge_u (local.get $pos) (local.get $end)))
            (local.set $len (i32.add (i32.and (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 7)) (i32.const 4)))
            (local.set $offset
              (i32.or (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 8)) (i32.load8_u (local.get $pos))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1))))
          (else
            (local.set $len (i32.add (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 1)))
            (if (i32.eq (i32.and (local.get $tag) (i32.const 3)) (i32.const 2))
              (then
                (br_if $corrupt (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 2)))
                (local.set $offset (i32.load16_u (local.get $pos)))
                (local.set $pos (i32.add (local.get $pos) (i32.const 2))))
              (else
                (br_if $corrupt (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 4)))
                (local.set $offset (i32.load (local.get $pos)))
                (local.set $pos (i32.add (local.get $pos) (i32.const 4)))))))
        (br_if $corrupt (i32.eqz (local.get $offset)))
        (br_if $corrupt (i32.gt_u (local.get $offset) (i32.sub (local.get $o) (local.get $out))))
        (br_if $corrupt (i32.gt_u (local.get $len) (i32.sub (local.get $cap) (local.get $o))))
        (local.set $dst (local.get $o))
        (local.set $src (i32.sub (local.get $o) (local.get $offset)))
        (local.set $stop (i32.add (local.get $o) (local.get $len)))
        (local.set $o (local.get $stop))
        (if (i32.lt_u (local.get $offset) (i32.const 8))
          (then
            ;; A run: copy the pattern 8 bytes at a time, keeping only the whole periods written so far
            ;; (dst - src), so the distance doubles each step until an 8-byte step reads only written bytes.
            (loop $widen
              (i64.store (local.get $dst) (i64.load (local.get $src)))
              (local.set $dst (i32.add (local.get $dst) (i32.sub (local.get $dst) (local.get $src))))
              (br_if $tags (i32.ge_u (local.get $dst) (local.get $stop)))
              (br_if $widen (i32.lt_u (i32.sub (local.get $dst) (local.get $src)) (i32.const 8))))))
        ;; The distance is 8 or more: each 8-byte load reads bytes already written.
        (loop $steps
          (i64.store (local.get $dst) (i64.load (local.get $src)))
          (local.set $src (i32.add (local.get $src) (i32.const 8)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
          (br_if $steps (i32.lt_u (local.get $dst) (local.get $stop))))
        (br $tags)))
    (i32.const -1)))
