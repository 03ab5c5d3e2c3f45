//! The fuel cost model: identical to wasmtime 48's default, so fuel consumed in weft can be
//! checked against `initial - store.get_fuel()` in wasmtime.
//!
//! Every operator costs 1 except `nop`, `drop`, `block`, `loop`, `unreachable`, `return`,
//! `else` and `end`, which cost 0. Each function entry costs 1 more. Bulk operations
//! (`memory.copy/fill/init`, `table.copy/fill/init/grow`) cost 1 more per byte or element
//! they are asked to move, charged before the bounds check (so an out-of-range request can run
//! out of fuel instead of trapping out of bounds) and, for `table.grow`, even when growth
//! fails; `memory.grow` costs nothing per page. All of this was checked against wasmtime
//! 48.0.8 (see `weft-exec/tests/regressions/bulk_fuel_*.wat`).
//!
//! Not modelled: wasmtime also charges fuel for the start-up code it compiles for some
//! modules' instantiation (global initialisers, element segments, the start function);
//! weft charges instantiation only for the wasm code it runs (the start function).

/// Cost of a function entry, charged when a wasm function starts executing.
pub const FUNCTION_ENTRY: u64 = 1;

/// Cost of one operator given its text-format mnemonic.
pub fn operator_cost(mnemonic: &str) -> u64 {
    match mnemonic {
        "nop" | "drop" | "block" | "loop" | "unreachable" | "return" | "else" | "end" => 0,
        _ => 1,
    }
}

/// Extra cost of a bulk operation over `count` bytes or elements.
pub fn bulk_cost(count: u64) -> u64 {
    count
}
