;; Gaussian perturbations in WebAssembly: the same numbers as rng.ts's fillGaussian, bit for bit.
;; Philox4x32-10 uses i64.mul for each 32×32→64-bit product, four blocks at a time (lanes a–d,
;; interleaved so their multiply chains overlap); each word goes through the ziggurat's fast path
;; (ziggurat.ts) with the tables rngWasm.ts copies in at start. A word the fast path does not
;; accept is stored as a quiet NaN carrying the word in its low 32 bits, and its value index is
;; listed for the JavaScript caller, which runs the slow path for it (about 3% of words).
;; WebAssembly f64 is IEEE 754 and never fuses multiply-adds, so the values equal the JavaScript
;; ones exactly. The four lanes' code is the same text with a different letter. Assembled by
;; scripts/build-wasm.ts into philoxWasm.ts.
(module
  ;; bytes [0, 1 MiB): output, 32,768 blocks of 4 float64; at 1 MiB: k_i (128 × u32); at
  ;; 1 MiB + 512: w_i (128 × f64); at 1 MiB + 2 KiB: the slow list (up to 131,072 × i32)
  (memory (export "memory") 26)

  ;; 4·n values × scale for Philox blocks b0 … b0+n−1 into memory at byte 0; returns how many
  ;; values need the slow path (their indices are in the slow list)
  (func (export "fill_gaussian") (param $b0 i32) (param $n i32) (param $member i32) (param $iter i32)
        (param $stream i32) (param $key0 i32) (param $key1 i32) (param $scale f64) (result i32)
    (local $i i32) (local $r i32) (local $k0 i32) (local $k1 i32) (local $at i32) (local $slow i32)
    (local $w i32) (local $layer i32) (local $u i32) (local $x f64)
    (local $c0a i32) (local $c1a i32) (local $c2a i32) (local $c3a i32) (local $c0b i32) (local $c1b i32) (local $c2b i32) (local $c3b i32) (local $c0c i32) (local $c1c i32) (local $c2c i32) (local $c3c i32) (local $c0d i32) (local $c1d i32) (local $c2d i32) (local $c3d i32)
    (local $p0a i64) (local $p1a i64) (local $p0b i64) (local $p1b i64) (local $p0c i64) (local $p1c i64) (local $p0d i64) (local $p1d i64)
    (block $end
      (loop $blocks
        (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $c0a (i32.add (i32.add (local.get $b0) (local.get $i)) (i32.const 0)))
      (local.set $c1a (local.get $member)) (local.set $c2a (local.get $iter)) (local.set $c3a (local.get $stream))
      (local.set $c0b (i32.add (i32.add (local.get $b0) (local.get $i)) (i32.const 1)))
      (local.set $c1b (local.get $member)) (local.set $c2b (local.get $iter)) (local.set $c3b (local.get $stream))
      (local.set $c0c (i32.add (i32.add (local.get $b0) (local.get $i)) (i32.const 2)))
      (local.set $c1c (local.get $member)) (local.set $c2c (local.get $iter)) (local.set $c3c (local.get $stream))
      (local.set $c0d (i32.add (i32.add (local.get $b0) (local.get $i)) (i32.const 3)))
      (local.set $c1d (local.get $member)) (local.set $c2d (local.get $iter)) (local.set $c3d (local.get $stream))
      (local.set $k0 (local.get $key0))
      (local.set $k1 (local.get $key1))
      (local.set $r (i32.const 0))
      (loop $round
        (if (i32.gt_u (local.get $r) (i32.const 0))
          (then
            (local.set $k0 (i32.add (local.get $k0) (i32.const 0x9e3779b9)))
            (local.set $k1 (i32.add (local.get $k1) (i32.const 0xbb67ae85)))))
        (local.set $p0a (i64.mul (i64.extend_i32_u (local.get $c0a)) (i64.const 0xd2511f53)))
        (local.set $p1a (i64.mul (i64.extend_i32_u (local.get $c2a)) (i64.const 0xcd9e8d57)))
        (local.set $p0b (i64.mul (i64.extend_i32_u (local.get $c0b)) (i64.const 0xd2511f53)))
        (local.set $p1b (i64.mul (i64.extend_i32_u (local.get $c2b)) (i64.const 0xcd9e8d57)))
        (local.set $p0c (i64.mul (i64.extend_i32_u (local.get $c0c)) (i64.const 0xd2511f53)))
        (local.set $p1c (i64.mul (i64.extend_i32_u (local.get $c2c)) (i64.const 0xcd9e8d57)))
        (local.set $p0d (i64.mul (i64.extend_i32_u (local.get $c0d)) (i64.const 0xd2511f53)))
        (local.set $p1d (i64.mul (i64.extend_i32_u (local.get $c2d)) (i64.const 0xcd9e8d57)))
        (local.set $c0a (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1a) (i64.const 32))) (local.get $c1a)) (local.get $k0)))
        (local.set $c2a (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0a) (i64.const 32))) (local.get $c3a)) (local.get $k1)))
        (local.set $c1a (i32.wrap_i64 (local.get $p1a)))
        (local.set $c3a (i32.wrap_i64 (local.get $p0a)))
        (local.set $c0b (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1b) (i64.const 32))) (local.get $c1b)) (local.get $k0)))
        (local.set $c2b (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0b) (i64.const 32))) (local.get $c3b)) (local.get $k1)))
        (local.set $c1b (i32.wrap_i64 (local.get $p1b)))
        (local.set $c3b (i32.wrap_i64 (local.get $p0b)))
        (local.set $c0c (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1c) (i64.const 32))) (local.get $c1c)) (local.get $k0)))
        (local.set $c2c (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0c) (i64.const 32))) (local.get $c3c)) (local.get $k1)))
        (local.set $c1c (i32.wrap_i64 (local.get $p1c)))
        (local.set $c3c (i32.wrap_i64 (local.get $p0c)))
        (local.set $c0d (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1d) (i64.const 32))) (local.get $c1d)) (local.get $k0)))
        (local.set $c2d (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0d) (i64.const 32))) (local.get $c3d)) (local.get $k1)))
        (local.set $c1d (i32.wrap_i64 (local.get $p1d)))
        (local.set $c3d (i32.wrap_i64 (local.get $p0d)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $round (i32.lt_u (local.get $r) (i32.const 10))))
      ;; block i + 0, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 0)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 0)) (i32.const 5)))
          (local.set $w (local.get $c0a))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1a))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2a))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3a))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 1, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 5)))
          (local.set $w (local.get $c0b))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1b))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2b))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3b))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 2, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 2)) (i32.const 5)))
          (local.set $w (local.get $c0c))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1c))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2c))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3c))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 3, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 3)) (i32.const 5)))
          (local.set $w (local.get $c0d))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1d))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2d))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3d))
          (local.set $layer (i32.and (local.get $w) (i32.const 127)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 8)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049088 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 128)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1050624 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $blocks)))
    (local.get $slow))
)
