;; Fuel of bulk memory operations matches wasmtime 48's default cost model: every operator
;; costs 1, and memory.fill / memory.copy / memory.init cost 1 more per byte (whether the
;; length is a constant, which wasmtime folds at compile time, or only known at run time);
;; memory.grow costs nothing per page.
(module
  (memory 2 4)
  (global $n (mut i32) (i32.const 5000))
  (data $d "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
  (func (export "fill_const_small") (memory.fill (i32.const 16) (i32.const 7) (i32.const 100)))
  (func (export "fill_const_large") (memory.fill (i32.const 16) (i32.const 7) (i32.const 1000)))
  (func (export "fill_dynamic") (memory.fill (i32.const 0) (i32.const 9) (global.get $n)))
  (func (export "fill_zero") (memory.fill (i32.const 0) (i32.const 9) (i32.const 0)))
  (func (export "copy_const") (memory.copy (i32.const 100) (i32.const 0) (i32.const 64)))
  (func (export "copy_dynamic") (memory.copy (i32.const 7) (i32.const 3000) (global.get $n)))
  (func (export "init_const") (memory.init $d (i32.const 200) (i32.const 4) (i32.const 40)))
  (func (export "init_dynamic")
    (memory.init $d (i32.const 300) (i32.const 0) (i32.div_u (global.get $n) (i32.const 100))))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "grow_fail") (result i32) (memory.grow (i32.const 100)))
  (func (export "loop_fill") (local $i i32)
    (loop $l
      (memory.fill (local.get $i) (local.get $i) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 50))))))
