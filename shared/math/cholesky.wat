;; The blocked Cholesky factorization's two kernels in WebAssembly SIMD (f64x2), over a row-major
;; K×K float64 matrix at byte address $a in this module's memory (choleskyWasm.ts drives them).
;; WebAssembly's f64 arithmetic is IEEE 754 without fused multiply-adds, so the sums come out the
;; same on every machine; the order of the additions is fixed by the code below.
;;
;; update: A[i][j] −= Σ_{p<p1} A[i][p]·A[j][p] for r0 ≤ i < r1, c0 ≤ j < c1: the trailing block
;;   column's update by the columns already factored (a GEMM with L·Lᵀ's operands both along rows),
;;   in chunks of 256 values of p, two rows by four columns at a time.
;; panel: rows r0..r1−1 of block column [jb, jb + w): for each row in order,
;;   L[i][c] = (A[i][c] − Σ_{jb≤q<c} L[i][q]·L[c][q]) / L[c][c] for jb ≤ c < min(i, jb + w), and
;;   L[i][i] = √(A[i][i] − Σ_{jb≤q<i} L[i][q]²) when i lies in the block; 0 when a pivot is not
;;   positive (the matrix is not numerically positive definite), else 1.
(module
  (memory (export "memory") 1)

  ;; Σ_{p<n} x[p]·y[p] at byte addresses x, y: two lanes, two accumulators, then the tail
  (func $dot (param $x i32) (param $y i32) (param $n i32) (result f64)
    (local $s0 v128) (local $s1 v128) (local $p i32) (local $end i32) (local $r f64)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 3)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s0 (f64x2.add (local.get $s0)
          (f64x2.mul (v128.load (i32.add (local.get $x) (local.get $p)))
                     (v128.load (i32.add (local.get $y) (local.get $p))))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.mul (v128.load offset=16 (i32.add (local.get $x) (local.get $p)))
                     (v128.load offset=16 (i32.add (local.get $y) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $l)))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (local.set $r (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $done2
      (loop $t
        (br_if $done2 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $r (f64.add (local.get $r)
          (f64.mul (f64.load (i32.add (local.get $x) (local.get $p)))
                   (f64.load (i32.add (local.get $y) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $t)))
    (local.get $r))

  ;; the horizontal sum of a lane pair
  (func $hsum (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; A[i][j] −= $s at byte address $at
  (func $sub (param $at i32) (param $s f64)
    (f64.store (local.get $at) (f64.sub (f64.load (local.get $at)) (local.get $s))))

  ;; rows i, i + 1 against rows j … j + 3 over p in [p0, pe) (byte offsets), the sums subtracted
  (func $kernel24 (param $x0 i32) (param $x1 i32) (param $y0 i32) (param $y1 i32) (param $y2 i32)
                  (param $y3 i32) (param $p0 i32) (param $pe i32) (param $o0 i32) (param $o1 i32)
    (local $p i32) (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $u0 v128) (local $u1 v128) (local $v v128)
    (local $t00 f64) (local $t01 f64) (local $t02 f64) (local $t03 f64)
    (local $t10 f64) (local $t11 f64) (local $t12 f64) (local $t13 f64)
    (local $w0 f64) (local $w1 f64)
    (local.set $p (local.get $p0))
    (local.set $end (i32.add (local.get $p0)
      (i32.and (i32.sub (local.get $pe) (local.get $p0)) (i32.const -16))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $u0 (v128.load (i32.add (local.get $x0) (local.get $p))))
        (local.set $u1 (v128.load (i32.add (local.get $x1) (local.get $p))))
        (local.set $v (v128.load (i32.add (local.get $y0) (local.get $p))))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $u0) (local.get $v))))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $u1) (local.get $v))))
        (local.set $v (v128.load (i32.add (local.get $y1) (local.get $p))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $u0) (local.get $v))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $u1) (local.get $v))))
        (local.set $v (v128.load (i32.add (local.get $y2) (local.get $p))))
        (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $u0) (local.get $v))))
        (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $u1) (local.get $v))))
        (local.set $v (v128.load (i32.add (local.get $y3) (local.get $p))))
        (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $u0) (local.get $v))))
        (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $u1) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
    (local.set $t00 (call $hsum (local.get $c00)))
    (local.set $t01 (call $hsum (local.get $c01)))
    (local.set $t02 (call $hsum (local.get $c02)))
    (local.set $t03 (call $hsum (local.get $c03)))
    (local.set $t10 (call $hsum (local.get $c10)))
    (local.set $t11 (call $hsum (local.get $c11)))
    (local.set $t12 (call $hsum (local.get $c12)))
    (local.set $t13 (call $hsum (local.get $c13)))
    ;; an odd chunk's last value
    (if (i32.lt_u (local.get $p) (local.get $pe))
      (then
        (local.set $w0 (f64.load (i32.add (local.get $x0) (local.get $p))))
        (local.set $w1 (f64.load (i32.add (local.get $x1) (local.get $p))))
        (local.set $t00 (f64.add (local.get $t00) (f64.mul (local.get $w0) (f64.load (i32.add (local.get $y0) (local.get $p))))))
        (local.set $t01 (f64.add (local.get $t01) (f64.mul (local.get $w0) (f64.load (i32.add (local.get $y1) (local.get $p))))))
        (local.set $t02 (f64.add (local.get $t02) (f64.mul (local.get $w0) (f64.load (i32.add (local.get $y2) (local.get $p))))))
        (local.set $t03 (f64.add (local.get $t03) (f64.mul (local.get $w0) (f64.load (i32.add (local.get $y3) (local.get $p))))))
        (local.set $t10 (f64.add (local.get $t10) (f64.mul (local.get $w1) (f64.load (i32.add (local.get $y0) (local.get $p))))))
        (local.set $t11 (f64.add (local.get $t11) (f64.mul (local.get $w1) (f64.load (i32.add (local.get $y1) (local.get $p))))))
        (local.set $t12 (f64.add (local.get $t12) (f64.mul (local.get $w1) (f64.load (i32.add (local.get $y2) (local.get $p))))))
        (local.set $t13 (f64.add (local.get $t13) (f64.mul (local.get $w1) (f64.load (i32.add (local.get $y3) (local.get $p))))))))
    (call $sub (local.get $o0) (local.get $t00))
    (call $sub (i32.add (local.get $o0) (i32.const 8)) (local.get $t01))
    (call $sub (i32.add (local.get $o0) (i32.const 16)) (local.get $t02))
    (call $sub (i32.add (local.get $o0) (i32.const 24)) (local.get $t03))
    (call $sub (local.get $o1) (local.get $t10))
    (call $sub (i32.add (local.get $o1) (i32.const 8)) (local.get $t11))
    (call $sub (i32.add (local.get $o1) (i32.const 16)) (local.get $t12))
    (call $sub (i32.add (local.get $o1) (i32.const 24)) (local.get $t13)))

  (func (export "update") (param $a i32) (param $k i32) (param $r0 i32) (param $r1 i32)
                          (param $c0 i32) (param $c1 i32) (param $p1 i32)
    (local $row i32) (local $p0 i32) (local $pe i32) (local $i i32) (local $j i32)
    (local $xi i32) (local $xn i32) (local $yj i32)
    (local.set $row (i32.shl (local.get $k) (i32.const 3)))
    ;; p in chunks of 256 values (byte offsets p0 … pe)
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $p0) (i32.shl (local.get $p1) (i32.const 3))))
        (local.set $pe (i32.add (local.get $p0) (i32.const 2048)))
        (if (i32.gt_u (local.get $pe) (i32.shl (local.get $p1) (i32.const 3)))
          (then (local.set $pe (i32.shl (local.get $p1) (i32.const 3)))))
        (local.set $i (local.get $r0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $r1)))
            (local.set $xi (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
            (local.set $j (local.get $c0))
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $r1))
              (then
                ;; two rows: four columns at a time, then the columns left one at a time
                (local.set $xn (i32.add (local.get $xi) (local.get $row)))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $c1)))
                    (local.set $yj (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))))
                    (call $kernel24 (local.get $xi) (local.get $xn) (local.get $yj)
                      (i32.add (local.get $yj) (local.get $row))
                      (i32.add (local.get $yj) (i32.shl (local.get $row) (i32.const 1)))
                      (i32.add (local.get $yj) (i32.mul (local.get $row) (i32.const 3)))
                      (local.get $p0) (local.get $pe)
                      (i32.add (local.get $xi) (i32.shl (local.get $j) (i32.const 3)))
                      (i32.add (local.get $xn) (i32.shl (local.get $j) (i32.const 3))))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $cols)))
                (block $left_done
                  (loop $left
                    (br_if $left_done (i32.ge_u (local.get $j) (local.get $c1)))
                    (local.set $yj (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))))
                    (call $sub (i32.add (local.get $xi) (i32.shl (local.get $j) (i32.const 3)))
                      (call $dot (i32.add (local.get $xi) (local.get $p0)) (i32.add (local.get $yj) (local.get $p0))
                        (i32.shr_u (i32.sub (local.get $pe) (local.get $p0)) (i32.const 3))))
                    (call $sub (i32.add (local.get $xn) (i32.shl (local.get $j) (i32.const 3)))
                      (call $dot (i32.add (local.get $xn) (local.get $p0)) (i32.add (local.get $yj) (local.get $p0))
                        (i32.shr_u (i32.sub (local.get $pe) (local.get $p0)) (i32.const 3))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $left)))
                (local.set $i (i32.add (local.get $i) (i32.const 2))))
              (else
                ;; the last row alone
                (block $one_done
                  (loop $one
                    (br_if $one_done (i32.ge_u (local.get $j) (local.get $c1)))
                    (local.set $yj (i32.add (local.get $a) (i32.mul (local.get $j) (local.get $row))))
                    (call $sub (i32.add (local.get $xi) (i32.shl (local.get $j) (i32.const 3)))
                      (call $dot (i32.add (local.get $xi) (local.get $p0)) (i32.add (local.get $yj) (local.get $p0))
                        (i32.shr_u (i32.sub (local.get $pe) (local.get $p0)) (i32.const 3))))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $one)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))))
            (br $rows)))
        (local.set $p0 (local.get $pe))
        (br $chunks))))

  (func (export "panel") (param $a i32) (param $k i32) (param $jb i32) (param $w i32)
                         (param $r0 i32) (param $r1 i32) (result i32)
    (local $row i32) (local $i i32) (local $c i32) (local $cend i32) (local $xi i32) (local $yc i32)
    (local $s f64)
    (local.set $row (i32.shl (local.get $k) (i32.const 3)))
    (local.set $i (local.get $r0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $r1)))
        (local.set $xi (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
        (local.set $cend (i32.add (local.get $jb) (local.get $w)))
        (if (i32.lt_u (local.get $i) (local.get $cend)) (then (local.set $cend (local.get $i))))
        (local.set $c (local.get $jb))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cend)))
            (local.set $yc (i32.add (local.get $a) (i32.mul (local.get $c) (local.get $row))))
            (local.set $s (f64.sub
              (f64.load (i32.add (local.get $xi) (i32.shl (local.get $c) (i32.const 3))))
              (call $dot (i32.add (local.get $xi) (i32.shl (local.get $jb) (i32.const 3)))
                         (i32.add (local.get $yc) (i32.shl (local.get $jb) (i32.const 3)))
                         (i32.sub (local.get $c) (local.get $jb)))))
            (f64.store (i32.add (local.get $xi) (i32.shl (local.get $c) (i32.const 3)))
              (f64.div (local.get $s) (f64.load (i32.add (local.get $yc) (i32.shl (local.get $c) (i32.const 3))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cols)))
        ;; the pivot, for a row of the diagonal block
        (if (i32.lt_u (local.get $i) (i32.add (local.get $jb) (local.get $w)))
          (then
            (local.set $s (f64.sub
              (f64.load (i32.add (local.get $xi) (i32.shl (local.get $i) (i32.const 3))))
              (call $dot (i32.add (local.get $xi) (i32.shl (local.get $jb) (i32.const 3)))
                         (i32.add (local.get $xi) (i32.shl (local.get $jb) (i32.const 3)))
                         (i32.sub (local.get $i) (local.get $jb)))))
            ;; not positive, or NaN, or infinite
            (if (i32.eqz (f64.gt (local.get $s) (f64.const 0))) (then (return (i32.const 0))))
            (if (f64.eq (local.get $s) (f64.const inf)) (then (return (i32.const 0))))
            (f64.store (i32.add (local.get $xi) (i32.shl (local.get $i) (i32.const 3))) (f64.sqrt (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (i32.const 1))
)
