//! Ground truth: every answer comes from running the final binary in the engine. The fast
//! machine gives the results, the fuel and the final memory; an exact-mode run under an
//! observer watches the code offsets of the markers for the stack and flag answers, and
//! checks that no float operator produced a NaN whose sign and payload the spec leaves to the
//! engine (a value computed from memory written in an earlier loop iteration can turn into one
//! after the tile was offered): such a program's answers would differ between engines.

use crate::config::Task;
use crate::ins::{Ins, Marker};
use crate::nan::NanWatch;
use crate::program::Program;
use std::collections::HashMap;
use std::sync::Arc;
use weft_core::{Val, ValType};
use weft_exec::concrete::{bits_val, Bits};
use weft_exec::{Concrete, Config, Limits, Linker, Machine, NoObserver, Observer, StepView};

/// The observed behaviour of a program's entry function.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Return values.
    pub results: Vec<Val>,
    /// Fuel consumed (wasmtime's cost model).
    pub fuel: u64,
    /// Memory 0 after the run.
    pub memory: Vec<u8>,
    /// Whether each flag `k` was reached.
    pub flags: Vec<bool>,
    /// The INSPECT answer, if the program has the marker and it was reached.
    pub inspect: Option<Vec<Val>>,
}

struct MarkerObserver {
    func: u32,
    at: HashMap<u32, Vec<Marker>>,
    flags: Vec<bool>,
    inspect: Option<Vec<Val>>,
    /// Float operators returning NaNs with open bits.
    nan: NanWatch,
}

impl Observer<Concrete> for MarkerObserver {
    fn before_step(&mut self, view: &StepView<'_, Concrete>) {
        self.nan.step(view);
        if view.func != self.func {
            return;
        }
        if let Some(ms) = self.at.get(&view.offset) {
            for m in ms {
                match m {
                    Marker::Flag(k) => self.flags[*k as usize] = true,
                    Marker::Inspect(tys) => {
                        if self.inspect.is_none() {
                            let n = view.stack.len();
                            let vals: Vec<Bits> = view.stack[n - tys.len()..].to_vec();
                            self.inspect = Some(
                                vals.iter()
                                    .zip(tys)
                                    .map(|(b, t)| bits_val(*b, *t))
                                    .collect(),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Code offsets (in `wasm`) of the instruction each marker of the entry function precedes.
fn marker_offsets(program: &Program, wasm: &[u8]) -> Result<HashMap<u32, Vec<Marker>>, String> {
    let body = &program.funcs[program.entry as usize].body;
    let mut by_ordinal: HashMap<usize, Vec<Marker>> = HashMap::new();
    let mut ordinal = 0usize;
    for ins in body {
        match ins {
            Ins::Marker(m) => by_ordinal.entry(ordinal).or_default().push(m.clone()),
            _ => ordinal += 1,
        }
    }
    let mut out = HashMap::new();
    if by_ordinal.is_empty() {
        return Ok(out);
    }
    let mut func = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(b) = payload.map_err(|e| e.to_string())? {
            if func == program.entry {
                let reader = b.get_operators_reader().map_err(|e| e.to_string())?;
                for (i, op) in reader.into_iter_with_offsets().enumerate() {
                    let (_, off) = op.map_err(|e| e.to_string())?;
                    if let Some(ms) = by_ordinal.remove(&i) {
                        out.insert(off as u32, ms);
                    }
                }
            }
            func += 1;
        }
    }
    if !by_ordinal.is_empty() {
        return Err("a marker does not precede an instruction".into());
    }
    Ok(out)
}

fn machine<O: Observer<Concrete>>(obs: O) -> Machine<Concrete, O> {
    Machine::new(
        Concrete,
        obs,
        Config {
            fuel: true,
            limits: Limits {
                max_call_depth: 1000,
                max_memory_pages: 16,
                ..Limits::default()
            },
        },
    )
}

/// Runs the dataset binary of `program` in the engine with `fuel`.
pub fn run(program: &Program, wasm: &[u8], fuel: u64) -> Result<Outcome, String> {
    let mut m = machine(NoObserver);
    let module = Arc::new(
        weft_ir::Module::new_lowered(wasm, m.mode())
            .map_err(|e| format!("module does not load: {e}"))?,
    );
    let inst = m
        .instantiate(module.clone(), &Linker::new())
        .map_err(|e| format!("module does not instantiate: {e}"))?;
    m.set_fuel(Some(fuel)).map_err(|e| e.to_string())?;
    let results = m
        .invoke(inst, "main", &[])
        .map_err(|e| format!("main does not complete: {e}"))?;
    let consumed = m.fuel_consumed();
    let mem_addr = m.store.instances[inst as usize].memories[0];
    let memory = m.store.memories[mem_addr as usize].mem.data.clone();

    let nflags = program.funcs[program.entry as usize]
        .body
        .iter()
        .filter(|i| matches!(i, Ins::Marker(Marker::Flag(_))))
        .count();
    let at = marker_offsets(program, wasm)?;
    let has_inspect = at
        .values()
        .flatten()
        .any(|m| matches!(m, Marker::Inspect(_)));
    let (flags, inspect) = {
        let mut m = machine(MarkerObserver {
            func: program.entry,
            at,
            flags: vec![false; nflags],
            inspect: None,
            nan: NanWatch::default(),
        });
        let inst = m
            .instantiate(module, &Linker::new())
            .map_err(|e| format!("module does not instantiate: {e}"))?;
        m.set_fuel(Some(fuel)).map_err(|e| e.to_string())?;
        let r2 = m
            .invoke(inst, "main", &[])
            .map_err(|e| format!("main does not complete in exact mode: {e}"))?;
        if r2 != results || m.fuel_consumed() != consumed {
            return Err("exact and fast runs disagree".into());
        }
        if let Some(offset) = m.observer.nan.first {
            return Err(format!(
                "the operator at offset {offset} computes a NaN whose bits engines may choose"
            ));
        }
        (m.observer.flags, m.observer.inspect)
    };
    if has_inspect && inspect.is_none() {
        return Err("the INSPECT marker is never reached".into());
    }
    Ok(Outcome {
        results,
        fuel: consumed,
        memory,
        flags,
        inspect,
    })
}

/// The typed value stored at `addr` (little-endian, full width of `ty`).
pub fn memory_value(memory: &[u8], addr: u32, ty: ValType) -> Option<Val> {
    let w = match ty {
        ValType::I32 | ValType::F32 => 4,
        ValType::I64 | ValType::F64 => 8,
        _ => return None,
    };
    let bytes = memory.get(addr as usize..addr as usize + w)?;
    let mut b = [0u8; 16];
    b[..w].copy_from_slice(bytes);
    Some(bits_val(u128::from_le_bytes(b), ty))
}

/// Whether the task needs the exact-mode observer run.
pub fn needs_markers(task: Task) -> bool {
    matches!(task, Task::Stack | Task::Flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `main` of `wat` under the marker observer; returns the offset of the first
    /// operator that produced an open NaN.
    fn open_nan_of(wat: &str) -> Option<u32> {
        let module = Arc::new(weft_ir::Module::from_bytes_or_text(wat.as_bytes()).unwrap());
        let mut m = machine(MarkerObserver {
            func: 0,
            at: HashMap::new(),
            flags: vec![],
            inspect: None,
            nan: NanWatch::default(),
        });
        let inst = m.instantiate(module, &Linker::new()).unwrap();
        m.invoke(inst, "main", &[]).unwrap();
        m.observer.nan.first
    }

    #[test]
    fn nan_from_arithmetic_is_found_but_not_from_bitwise_operators() {
        // sqrt of a negative number: a NaN of either sign (x86 makes it negative).
        let found = open_nan_of(
            r#"(module (func (export "main") (result i32)
                f64.const -4 f64.sqrt i64.reinterpret_f64 i64.const 63 i64.shr_u i32.wrap_i64))"#,
        );
        assert!(found.is_some());
        // A NaN constant negated and reinterpreted: every bit is fixed by the spec.
        let none = open_nan_of(
            r#"(module (func (export "main") (result i32)
                f32.const nan:0x200000 f32.neg f32.abs i32.reinterpret_f32))"#,
        );
        assert_eq!(none, None);
        // The positive canonical NaN passed on: every engine gives it back.
        let none = open_nan_of(
            r#"(module (func (export "main") (result i64)
                f64.const nan f64.nearest f64.const 1 f64.add i64.reinterpret_f64))"#,
        );
        assert_eq!(none, None);
        // A negative NaN passed on: engines differ in the sign they return.
        let found = open_nan_of(
            r#"(module (func (export "main") (result i64)
                f64.const -nan f64.const 1 f64.add i64.reinterpret_f64))"#,
        );
        assert!(found.is_some());
        // Ordinary arithmetic without NaN.
        let none =
            open_nan_of(r#"(module (func (export "main") (result f64) f64.const 2 f64.sqrt))"#);
        assert_eq!(none, None);
    }

    #[test]
    fn nan_made_from_memory_of_an_earlier_iteration_is_found() {
        // The first iteration stores 6.0f at 2; the second reads its high bytes as a huge
        // integer whose negation has no real square root.
        let found = open_nan_of(
            r#"(module (memory 1)
              (func (export "main") (result i32) (local $i i32)
                i32.const 2 local.set $i
                loop
                  local.get $i
                  local.get $i i64.load32_u f64.convert_i64_u f64.neg f64.sqrt f64.trunc
                  f32.demote_f64 f32.const 6 f32.add
                  f32.store
                  local.get $i i32.const 1 i32.sub local.tee $i
                  br_if 0
                end
                i32.const 1 i32.load))"#,
        );
        assert!(found.is_some());
    }
}
