;; Gaussian perturbations in WebAssembly: the same numbers as rng.ts's fillGaussian, bit for bit.
;; Philox4x32-10 runs four blocks at a time in SIMD lanes (i64x2.extmul gives the 32×32→64-bit
;; products, two lanes per instruction); each word then goes through the ziggurat's fast path
;; (ziggurat.ts) with the tables rngWasm.ts copies in at start. A word the fast path does not
;; accept is stored as a quiet NaN carrying the word in its low 32 bits, and its value index is
;; listed for the JavaScript caller, which runs the slow path for it (about 1.5% of words).
;; WebAssembly f64 is IEEE 754 and never fuses multiply-adds, so the values equal the JavaScript
;; ones exactly. The four blocks' store code is the same text with a different letter. Assembled by
;; scripts/build-wasm.ts into philoxWasm.ts.
(module
  ;; bytes [0, 1 MiB): output, 32,768 blocks of 4 float64; at 1 MiB: k_i (256 × u32); at
  ;; 1 MiB + 1 KiB: w_i (256 × f64); at 1 MiB + 4 KiB: the slow list (up to 131,072 × i32)
  (memory (export "memory") 26)

  ;; 4·n values × scale for Philox blocks b0 … b0+n−1 into memory at byte 0; returns how many
  ;; values need the slow path (their indices are in the slow list)
  (func (export "fill_gaussian") (param $b0 i32) (param $n i32) (param $member i32) (param $iter i32)
        (param $stream i32) (param $key0 i32) (param $key1 i32) (param $scale f64) (result i32)
    (local $i i32) (local $r i32) (local $k0 i32) (local $k1 i32) (local $at i32) (local $slow i32)
    (local $w i32) (local $layer i32) (local $u i32) (local $x f64)
    (local $c0a i32) (local $c1a i32) (local $c2a i32) (local $c3a i32) (local $c0b i32) (local $c1b i32) (local $c2b i32) (local $c3b i32) (local $c0c i32) (local $c1c i32) (local $c2c i32) (local $c3c i32) (local $c0d i32) (local $c1d i32) (local $c2d i32) (local $c3d i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $p0l v128) (local $p0h v128) (local $p1l v128) (local $p1h v128)
    (block $end
      (loop $blocks
        (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
      ;; lanes 0–3 of each vector are blocks i … i+3
      (local.set $x0 (i32x4.add (i32x4.splat (i32.add (local.get $b0) (local.get $i))) (v128.const i32x4 0 1 2 3)))
      (local.set $x1 (i32x4.splat (local.get $member)))
      (local.set $x2 (i32x4.splat (local.get $iter)))
      (local.set $x3 (i32x4.splat (local.get $stream)))
      (local.set $k0 (local.get $key0))
      (local.set $k1 (local.get $key1))
      (local.set $r (i32.const 0))
      (loop $round
        (if (i32.gt_u (local.get $r) (i32.const 0))
          (then
            (local.set $k0 (i32.add (local.get $k0) (i32.const 0x9e3779b9)))
            (local.set $k1 (i32.add (local.get $k1) (i32.const 0xbb67ae85)))))
        ;; 64-bit products x0·M0 and x2·M1, lanes 0–1 and 2–3
        (local.set $p0l (i64x2.extmul_low_i32x4_u (local.get $x0) (v128.const i32x4 0xd2511f53 0xd2511f53 0xd2511f53 0xd2511f53)))
        (local.set $p0h (i64x2.extmul_high_i32x4_u (local.get $x0) (v128.const i32x4 0xd2511f53 0xd2511f53 0xd2511f53 0xd2511f53)))
        (local.set $p1l (i64x2.extmul_low_i32x4_u (local.get $x2) (v128.const i32x4 0xcd9e8d57 0xcd9e8d57 0xcd9e8d57 0xcd9e8d57)))
        (local.set $p1h (i64x2.extmul_high_i32x4_u (local.get $x2) (v128.const i32x4 0xcd9e8d57 0xcd9e8d57 0xcd9e8d57 0xcd9e8d57)))
        ;; x0 ← hi(x2·M1) ⊕ x1 ⊕ k0,  x2 ← hi(x0·M0) ⊕ x3 ⊕ k1,  x1 ← lo(x2·M1),  x3 ← lo(x0·M0)
        (local.set $x0 (v128.xor (v128.xor
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $p1l) (local.get $p1h))
          (local.get $x1)) (i32x4.splat (local.get $k0))))
        (local.set $x1 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $p1l) (local.get $p1h)))
        (local.set $x2 (v128.xor (v128.xor
          (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $p0l) (local.get $p0h))
          (local.get $x3)) (i32x4.splat (local.get $k1))))
        (local.set $x3 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $p0l) (local.get $p0h)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $round (i32.lt_u (local.get $r) (i32.const 10))))
      (local.set $c0a (i32x4.extract_lane 0 (local.get $x0)))
      (local.set $c1a (i32x4.extract_lane 0 (local.get $x1)))
      (local.set $c2a (i32x4.extract_lane 0 (local.get $x2)))
      (local.set $c3a (i32x4.extract_lane 0 (local.get $x3)))
      (local.set $c0b (i32x4.extract_lane 1 (local.get $x0)))
      (local.set $c1b (i32x4.extract_lane 1 (local.get $x1)))
      (local.set $c2b (i32x4.extract_lane 1 (local.get $x2)))
      (local.set $c3b (i32x4.extract_lane 1 (local.get $x3)))
      (local.set $c0c (i32x4.extract_lane 2 (local.get $x0)))
      (local.set $c1c (i32x4.extract_lane 2 (local.get $x1)))
      (local.set $c2c (i32x4.extract_lane 2 (local.get $x2)))
      (local.set $c3c (i32x4.extract_lane 2 (local.get $x3)))
      (local.set $c0d (i32x4.extract_lane 3 (local.get $x0)))
      (local.set $c1d (i32x4.extract_lane 3 (local.get $x1)))
      (local.set $c2d (i32x4.extract_lane 3 (local.get $x2)))
      (local.set $c3d (i32x4.extract_lane 3 (local.get $x3)))
      ;; block i + 0, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 0)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 0)) (i32.const 5)))
          (local.set $w (local.get $c0a))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1a))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2a))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3a))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 1, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 5)))
          (local.set $w (local.get $c0b))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1b))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2b))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3b))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 2, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 2)) (i32.const 5)))
          (local.set $w (local.get $c0c))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1c))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2c))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3c))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      ;; block i + 3, if it is one of the n asked for
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $n))
        (then
          (local.set $at (i32.shl (i32.add (local.get $i) (i32.const 3)) (i32.const 5)))
          (local.set $w (local.get $c0d))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=0 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=0 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 0)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c1d))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=8 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=8 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 1)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c2d))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=16 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=16 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 2)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))
          (local.set $w (local.get $c3d))
          (local.set $layer (i32.and (local.get $w) (i32.const 255)))
          (local.set $u (i32.shr_u (local.get $w) (i32.const 9)))
          (if (i32.lt_u (local.get $u) (i32.load offset=1048576 (i32.shl (local.get $layer) (i32.const 2))))
            (then
              (local.set $x (f64.mul (f64.convert_i32_u (local.get $u)) (f64.load offset=1049600 (i32.shl (local.get $layer) (i32.const 3)))))
              (if (i32.and (local.get $w) (i32.const 256)) (then (local.set $x (f64.neg (local.get $x)))))
              (f64.store offset=24 (local.get $at) (f64.mul (local.get $scale) (local.get $x))))
            (else
              (i64.store offset=24 (local.get $at) (i64.or (i64.const 0x7ff8000000000000) (i64.extend_i32_u (local.get $w))))
              (i32.store offset=1052672 (i32.shl (local.get $slow) (i32.const 2)) (i32.add (i32.shr_u (local.get $at) (i32.const 3)) (i32.const 3)))
              (local.set $slow (i32.add (local.get $slow) (i32.const 1)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $blocks)))
    (local.get $slow))
)
