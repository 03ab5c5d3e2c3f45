;; fuel: 1000
;; wasmtime 48 charges table.grow's per-element fuel for the requested delta before trying to
;; grow: a delta larger than the remaining fuel stops with "all fuel consumed", even though
;; the grow itself would just fail (return -1).
(module
  (table 1 10 funcref)
  (global $huge (mut i32) (i32.const -1))
  (func (export "grow_huge_const") (result i32) (table.grow (ref.null func) (i32.const 5000)))
  (func (export "grow_huge_dynamic") (result i32) (table.grow (ref.null func) (global.get $huge))))
