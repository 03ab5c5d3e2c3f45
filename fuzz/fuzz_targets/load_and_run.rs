//! Arbitrary bytes -> `Module::new` (must never panic) -> if valid, instantiate under small
//! limits (memory <= 256 pages, call depth <= 1000, fuel 100_000; imported functions stubbed)
//! and call every exported function whose parameters are all numeric with zero arguments,
//! each with fresh fuel, ignoring errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use weft_exec::NoObserver;
use weft_fuzz::{machine, zero_args, FUEL};
use weft_ir::{ExternKind, LowerMode, Module};

fuzz_target!(|data: &[u8]| {
    let Ok(module) = Module::new(data) else {
        return;
    };
    let module = Arc::new(module);
    // Lower the modes the run below does not use (it runs FAST_FUEL); must not panic either.
    for mode in [LowerMode::FAST, LowerMode::EXACT] {
        let _ = module.lowered(mode);
    }

    let (mut machine, linker) = machine(NoObserver, &module);
    let Ok(inst) = machine.instantiate(module.clone(), &linker) else {
        return;
    };
    for export in &module.exports {
        if export.kind != ExternKind::Func {
            continue;
        }
        let Some(args) = zero_args(module.func_type(export.index)) else {
            continue;
        };
        machine.set_fuel(Some(FUEL)).expect("fuel is enabled");
        let _ = machine.invoke(inst, &export.name, &args);
    }
});
