;; Batched float32 matrix product on the tfjs-backend-wasm heap (its memory is imported):
;;   C[b] = op(A[b]) x op(B[b]),  op(A[b]) is M x K, op(B[b]) is K x N, C[b] is M x N,
;; every matrix row-major and dense. `npm run build:kernels` (build.ts) assembles it into
;; batch-matmul.wasm, which batch-matmul.ts loads.
;;
;; C is computed in blocks of 4 rows x 8 columns held in eight f32x4 accumulators: per step
;; along K, two vector loads of a B row, four splat loads of A and eight multiply-adds.
;; B is read as K rows of 8 consecutive floats. When B is transposed, or N is not a multiple
;; of 8, each batch's B is first copied into the caller's scratch area as K rows of Np floats
;; (N rounded up to 8, padding zero), so a block never reads past its matrix. A is read in
;; place through two strides, so transposing A costs nothing. Partial blocks at the bottom
;; (M mod 4 rows) repeat the last row and store only the real rows; partial blocks at the
;; right store only the real columns. Each output is summed in order k = 0 .. K-1 with
;; separate multiply and add, as a plain loop does (tfjs-wasm's own loop gives the same bits
;; for window-attention sizes).
(module
  (import "env" "memory" (memory 0))

  ;; Stores the first n (1..8) of the eight floats lo:hi at p.
  (func $storePartial (param $p i32) (param $lo v128) (param $hi v128) (param $n i32)
    (if (i32.ge_u (local.get $n) (i32.const 4))
      (then
        (v128.store (local.get $p) (local.get $lo))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $lo (local.get $hi))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))))
    (if (i32.eq (local.get $n) (i32.const 4))
      (then
        (v128.store (local.get $p) (local.get $lo))
        (return)))
    (if (i32.and (local.get $n) (i32.const 2))
      (then
        (v128.store64_lane 0 (local.get $p) (local.get $lo))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        ;; lanes 2, 3 down to 0, 1
        (local.set $lo (i64x2.splat (i64x2.extract_lane 1 (local.get $lo))))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (v128.store32_lane 0 (local.get $p) (local.get $lo)))))

  ;; One block: A rows start at a0..a3 and advance ks bytes per step, B starts at pb and
  ;; advances ldb bytes per step, k >= 1 steps. Stores mr (1..4) rows of nr (1..8) columns
  ;; at pc, rows ldc bytes apart.
  (func $block
    (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $ks i32)
    (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc i32) (param $ldc i32) (param $mr i32) (param $nr i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (loop $step
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $av (v128.load32_splat (local.get $a0)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat (local.get $a1)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat (local.get $a2)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load32_splat (local.get $a3)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
      (local.set $a0 (i32.add (local.get $a0) (local.get $ks)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $ks)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $ks)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $ks)))
      (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
      (br_if $step (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
    (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 8)))
      (then
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (return)))
    (block $done
      (call $storePartial (local.get $pc) (local.get $c00) (local.get $c01) (local.get $nr))
      (br_if $done (i32.lt_u (local.get $mr) (i32.const 2)))
      (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
      (call $storePartial (local.get $pc) (local.get $c10) (local.get $c11) (local.get $nr))
      (br_if $done (i32.lt_u (local.get $mr) (i32.const 3)))
      (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
      (call $storePartial (local.get $pc) (local.get $c20) (local.get $c21) (local.get $nr))
      (br_if $done (i32.lt_u (local.get $mr) (i32.const 4)))
      (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
      (call $storePartial (local.get $pc) (local.get $c30) (local.get $c31) (local.get $nr))))

  ;; Bytes of scratch that batchMatMul needs for these arguments (0: none).
  (func (export "scratchBytes") (param $n i32) (param $k i32) (param $transB i32) (result i32)
    (if (result i32)
      (i32.or (local.get $transB) (i32.and (local.get $n) (i32.const 7)))
      (then (i32.mul (i32.mul (local.get $k) (i32.const 4))
                     (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
      (else (i32.const 0))))

  ;; C[b] = op(A[b]) x op(B[b]) for b < batch. a, b, c, scratch: byte addresses; strideA and
  ;; strideB: bytes from one batch's A (B) to the next, 0 to use one matrix for every batch.
  ;; A[b] is stored M x K (K x M when transA), B[b] K x N (N x K when transB). m, n, k >= 1.
  (func (export "batchMatMul")
    (param $a i32) (param $b i32) (param $c i32) (param $scratch i32)
    (param $batch i32) (param $m i32) (param $n i32) (param $k i32)
    (param $transA i32) (param $transB i32) (param $strideA i32) (param $strideB i32)
    (local $rs i32) (local $ks i32) (local $np i32) (local $ldb i32) (local $ldc i32)
    (local $packed i32) (local $pb i32) (local $i i32) (local $j i32) (local $r i32)
    (local $src i32) (local $dst i32) (local $last i32) (local $done i32)
    ;; A(i, kk) lives at a + i * rs + kk * ks.
    (if (local.get $transA)
      (then
        (local.set $rs (i32.const 4))
        (local.set $ks (i32.mul (local.get $m) (i32.const 4))))
      (else
        (local.set $rs (i32.mul (local.get $k) (i32.const 4)))
        (local.set $ks (i32.const 4))))
    (local.set $np (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (local.set $packed (i32.or (local.get $transB) (i32.ne (local.get $np) (local.get $n))))
    (local.set $ldc (i32.mul (local.get $n) (i32.const 4)))
    (local.set $ldb (select (i32.mul (local.get $np) (i32.const 4)) (local.get $ldc) (local.get $packed)))
    (local.set $last (i32.mul (i32.sub (local.get $m) (i32.const 1)) (local.get $rs)))
    ;; The padding columns of the scratch rows stay zero for every batch.
    (if (i32.ne (local.get $np) (local.get $n))
      (then
        (local.set $r (i32.const 0))
        (loop $zero
          (memory.fill
            (i32.add (local.get $scratch) (i32.add (i32.mul (local.get $r) (local.get $ldb)) (local.get $ldc)))
            (i32.const 0)
            (i32.sub (local.get $ldb) (local.get $ldc)))
          (br_if $zero (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $k))))))
    (loop $batches
      (local.set $pb (select (local.get $scratch) (local.get $b) (local.get $packed)))
      ;; Packed once when every batch shares one B (strideB 0).
      (if (i32.and (local.get $packed) (i32.or (i32.ne (local.get $strideB) (i32.const 0)) (i32.eqz (local.get $done))))
        (then
          (local.set $done (i32.const 1))
          (if (local.get $transB)
            (then
              ;; B[b] is N x K: column j of op(B) is row j of B, written down column j of scratch.
              (local.set $j (i32.const 0))
              (loop $cols
                (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j) (i32.mul (local.get $k) (i32.const 4)))))
                (local.set $dst (i32.add (local.get $scratch) (i32.mul (local.get $j) (i32.const 4))))
                (local.set $r (local.get $k))
                (loop $rows
                  (f32.store (local.get $dst) (f32.load (local.get $src)))
                  (local.set $src (i32.add (local.get $src) (i32.const 4)))
                  (local.set $dst (i32.add (local.get $dst) (local.get $ldb)))
                  (br_if $rows (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
                (br_if $cols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n)))))
            (else
              ;; B[b] is K x N with N not a multiple of 8: rows copied to the wider scratch rows.
              (local.set $r (i32.const 0))
              (loop $rows
                (memory.copy
                  (i32.add (local.get $scratch) (i32.mul (local.get $r) (local.get $ldb)))
                  (i32.add (local.get $b) (i32.mul (local.get $r) (local.get $ldc)))
                  (local.get $ldc))
                (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $k))))))))
      (local.set $i (i32.const 0))
      (loop $blockRows
        (local.set $j (i32.const 0))
        (loop $blockCols
          (call $block
            (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rs)))
            ;; rows past M repeat the last row; their results are not stored
            (i32.add (local.get $a) (select (local.get $last) (i32.mul (i32.add (local.get $i) (i32.const 1)) (local.get $rs))
                                            (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))))
            (i32.add (local.get $a) (select (local.get $last) (i32.mul (i32.add (local.get $i) (i32.const 2)) (local.get $rs))
                                            (i32.ge_u (i32.add (local.get $i) (i32.const 2)) (local.get $m))))
            (i32.add (local.get $a) (select (local.get $last) (i32.mul (i32.add (local.get $i) (i32.const 3)) (local.get $rs))
                                            (i32.ge_u (i32.add (local.get $i) (i32.const 3)) (local.get $m))))
            (local.get $ks)
            (i32.add (local.get $pb) (i32.mul (local.get $j) (i32.const 4)))
            (local.get $ldb)
            (local.get $k)
            (i32.add (local.get $c) (i32.mul (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 4)))
            (local.get $ldc)
            (select (i32.sub (local.get $m) (local.get $i)) (i32.const 4)
                    (i32.lt_u (i32.sub (local.get $m) (local.get $i)) (i32.const 4)))
            (select (i32.sub (local.get $n) (local.get $j)) (i32.const 8)
                    (i32.lt_u (i32.sub (local.get $n) (local.get $j)) (i32.const 8))))
          (br_if $blockCols (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 8))) (local.get $n))))
        (br_if $blockRows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m))))
      (local.set $a (i32.add (local.get $a) (local.get $strideA)))
      (local.set $b (i32.add (local.get $b) (local.get $strideB)))
      (local.set $c (i32.add (local.get $c) (i32.mul (local.get $m) (local.get $ldc))))
      (br_if $batches (local.tee $batch (i32.sub (local.get $batch) (i32.const 1)))))))
