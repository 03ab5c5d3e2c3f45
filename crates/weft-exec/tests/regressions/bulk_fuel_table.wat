;; Fuel of bulk table operations matches wasmtime 48's default cost model: table.fill,
;; table.copy, table.init and table.grow cost 1 more per element (table.grow charges the
;; requested delta, before it knows whether growing succeeds).
(module
  (table $t 10 100 funcref)
  (table $u 5 6 funcref)
  (global $n (mut i32) (i32.const 6))
  (elem $e func $f $f $f $f $f $f $f $f)
  (func $f)
  (func (export "fill_const") (table.fill $t (i32.const 1) (ref.func $f) (i32.const 5)))
  (func (export "fill_dynamic") (table.fill $t (i32.const 0) (ref.null func) (global.get $n)))
  (func (export "copy_dynamic") (table.copy $t $t (i32.const 2) (i32.const 0) (global.get $n)))
  (func (export "copy_between") (table.copy $u $t (i32.const 0) (i32.const 3) (i32.const 5)))
  (func (export "init_dynamic") (table.init $t $e (i32.const 1) (i32.const 2) (global.get $n)))
  (func (export "grow_const") (result i32) (table.grow $t (ref.null func) (i32.const 7)))
  (func (export "grow_dynamic") (result i32) (table.grow $t (ref.func $f) (global.get $n)))
  (func (export "grow_fail") (result i32) (table.grow $u (ref.null func) (i32.const 3)))
  (func (export "size") (result i32) (table.size $t)))
