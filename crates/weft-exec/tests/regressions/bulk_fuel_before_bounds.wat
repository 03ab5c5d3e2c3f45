;; fuel: 1000
;; With fuel metering, wasmtime 48 charges a bulk operation's per-byte cost before its
;; bounds check: an out-of-bounds memory.fill / memory.copy / table.fill longer than the
;; remaining fuel stops with "all fuel consumed", not with an out-of-bounds trap.
;; (A shorter out-of-bounds operation still traps out of bounds.)
(module
  (memory 1 1)
  (table 4 4 funcref)
  (global $big (mut i32) (i32.const 100000))
  (global $small (mut i32) (i32.const 500))
  (func (export "fill_oob_short") (memory.fill (i32.const 65500) (i32.const 0) (global.get $small)))
  (func (export "fill_oob_long") (memory.fill (i32.const 65500) (i32.const 0) (global.get $big)))
  (func (export "copy_oob_long") (memory.copy (i32.const 0) (i32.const 1) (global.get $big)))
  (func (export "table_fill_oob_long") (table.fill (i32.const 1) (ref.null func) (global.get $big))))
