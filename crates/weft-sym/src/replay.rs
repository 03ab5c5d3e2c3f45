//! Concrete replay: runs a model's inputs through the concrete engine, so that every finding
//! is checked by the reference semantics before it is reported.

use crate::goals::{link_concrete, Goal, Task, Watch};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use weft_core::Val;
use weft_exec::{Concrete, Config, ExecError, Limits, Linker, Machine, Trap};

/// Concrete inputs of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    /// Export arguments.
    pub params: Vec<Val>,
    /// Memory regions written before the call.
    pub mem: Vec<(u32, Vec<u8>)>,
    /// Values returned by nondet and other imported functions, in call order.
    pub host: Vec<Val>,
    /// Standard input of a WASI program whose input is symbolic.
    pub stdin: Vec<u8>,
}

/// How a concrete run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Returned normally.
    Returned(Vec<Val>),
    /// Trapped.
    Trapped(Trap),
    /// Exited with a status.
    Exited(i32),
    /// Could not run (link error, bad arguments).
    Failed(String),
}

/// Runs `task` concretely on `inputs` with at most `fuel`; also says which goal (if any) the
/// run reached.
pub fn replay(
    task: &Task,
    inputs: &Inputs,
    fuel: u64,
    max_memory_pages: u32,
) -> (Outcome, Option<Goal>) {
    let config = Config {
        fuel: true,
        limits: Limits {
            max_memory_pages,
            ..Default::default()
        },
    };
    let mut m = Machine::new(Concrete, Watch::new(&task.goals, None), config);
    if let Err(e) = m.set_fuel(Some(fuel)) {
        return (Outcome::Failed(e.to_string()), None);
    }
    let mut linker = Linker::new();
    let queue = Arc::new(Mutex::new(
        inputs.host.iter().copied().collect::<VecDeque<_>>(),
    ));
    if let Err(e) = link_concrete(&mut m, &task.module, &mut linker, queue) {
        return (Outcome::Failed(e), None);
    }
    if let Some(w) = &task.wasi {
        let stdin = if w.sym_stdin.is_some() {
            &inputs.stdin
        } else {
            &w.stdin
        };
        let config = crate::explore::wasi_config(w, stdin);
        weft_exec::wasi::add_to_linker(&mut m, &mut linker, config);
    }
    let inst = match m.instantiate(task.module.clone(), &linker) {
        Ok(i) => i,
        Err(e) => return (Outcome::Failed(e.to_string()), None),
    };
    if !inputs.mem.is_empty() {
        let Some(&maddr) = m.store.instances[inst as usize].memories.first() else {
            return (Outcome::Failed("module has no memory".into()), None);
        };
        let mem = &mut m.store.memories[maddr as usize].mem;
        for (addr, bytes) in &inputs.mem {
            let a = *addr as usize;
            if a + bytes.len() > mem.data.len() {
                return (
                    Outcome::Failed("symbolic region out of bounds".into()),
                    None,
                );
            }
            mem.data[a..a + bytes.len()].copy_from_slice(bytes);
        }
    }
    let r = m.invoke(inst, &task.entry, &inputs.params);
    let hit = m.observer.hit.clone();
    let outcome = match r {
        Ok(v) => Outcome::Returned(v),
        Err(ExecError::Trap(t)) => Outcome::Trapped(t),
        Err(ExecError::Exit(c)) => Outcome::Exited(c),
        Err(e) => Outcome::Failed(e.to_string()),
    };
    (outcome, hit)
}
