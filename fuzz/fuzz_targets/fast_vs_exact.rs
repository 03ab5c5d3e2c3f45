//! Differential: the same module run by a `NoObserver` machine (fast-mode code: fused
//! superinstructions, fuel charged per block) and by a machine with an enabled observer
//! (exact-mode code, one instruction per operator, fuel charged per instruction). Calls that
//! succeed in both must return the same values and consume the same fuel; a call that succeeds
//! in fast mode must succeed in exact mode (its per-instruction charges never run out first);
//! calls that trap in both for a reason other than fuel must trap with the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use weft_core::TrapCode;
use weft_exec::{Concrete, ExecError, NoObserver, Observer};
use weft_fuzz::{machine, zero_args, FUEL};
use weft_ir::{ExternKind, Module};

/// Enabled observer that observes nothing: forces exact mode.
struct Exact;
impl Observer<Concrete> for Exact {}

fn fuel_trap(e: &ExecError) -> bool {
    matches!(e, ExecError::Trap(t) if t.code == TrapCode::OutOfFuel)
}

fuzz_target!(|data: &[u8]| {
    let Ok(module) = Module::new(data) else {
        return;
    };
    let module = Arc::new(module);
    let (mut fast, linker) = machine(NoObserver, &module);
    let (mut exact, elinker) = machine(Exact, &module);
    let (Ok(fi), Ok(ei)) = (
        fast.instantiate(module.clone(), &linker),
        exact.instantiate(module.clone(), &elinker),
    ) else {
        return;
    };
    for export in &module.exports {
        if export.kind != ExternKind::Func {
            continue;
        }
        let Some(args) = zero_args(module.func_type(export.index)) else {
            continue;
        };
        fast.set_fuel(Some(FUEL)).expect("fuel is enabled");
        exact.set_fuel(Some(FUEL)).expect("fuel is enabled");
        let (f0, e0) = (fast.fuel_consumed(), exact.fuel_consumed());
        let rf = fast.invoke(fi, &export.name, &args);
        let re = exact.invoke(ei, &export.name, &args);
        let (df, de) = (fast.fuel_consumed() - f0, exact.fuel_consumed() - e0);
        let name = &export.name;
        match (&rf, &re) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "results of `{name}` differ: fast {a:?}, exact {b:?}");
                assert_eq!(df, de, "fuel of `{name}` differs: fast {df}, exact {de}");
            }
            (Ok(a), Err(e)) => panic!("`{name}`: fast returned {a:?}, exact failed: {e}"),
            (Err(e), Ok(b)) if !fuel_trap(e) => {
                panic!("`{name}`: fast failed: {e}, exact returned {b:?}")
            }
            (Err(ExecError::Trap(a)), Err(ExecError::Trap(b)))
                if a.code != TrapCode::OutOfFuel && b.code != TrapCode::OutOfFuel =>
            {
                assert_eq!(a.code, b.code, "`{name}` traps differ: fast {a}, exact {b}");
            }
            _ => {}
        }
        // After different outcomes the two instances' states may differ: stop comparing.
        if rf.is_ok() != re.is_ok() {
            break;
        }
    }
});
