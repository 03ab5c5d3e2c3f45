//! Shared set-up of the weft fuzz targets: small limits, stubbed imports, zero arguments.

use weft_core::{FuncType, Val, ValType};
use weft_exec::host::{HostCtx, HostFunc};
use weft_exec::{Concrete, Config, Domain, Extern, Limits, Linker, Machine, Observer};
use weft_ir::{ImportKind, Module};

/// Fuel for instantiation and for each call.
pub const FUEL: u64 = 100_000;

/// Limits kept small so that every input finishes quickly and within little memory.
pub fn limits() -> Limits {
    Limits {
        max_call_depth: 1000,
        max_stack_slots: 1 << 16,
        max_memory_pages: 256,
        max_table_elements: 10_000,
        max_store_items: 10_000,
    }
}

/// A fuel-metered concrete machine with small limits and `FUEL` fuel, plus a linker in which
/// every function the module imports is a stub returning zeros (nulls) of its result types.
/// Other imports stay undefined, so instantiating a module that needs them fails.
pub fn machine<O: Observer<Concrete>>(
    observer: O,
    module: &Module,
) -> (Machine<Concrete, O>, Linker) {
    let mut machine = Machine::new(
        Concrete,
        observer,
        Config {
            fuel: true,
            limits: limits(),
        },
    );
    let mut linker = Linker::new();
    for imp in &module.imports {
        if let ImportKind::Func(t) = imp.kind {
            let ty: FuncType = module.types[t as usize].clone();
            let results = ty.results.clone();
            let f = HostFunc::<Concrete>::new(ty, move |ctx: &mut HostCtx<'_, Concrete>, _args| {
                Ok(results
                    .iter()
                    .map(|t| ctx.domain.constant(Val::default_of(*t)))
                    .collect())
            });
            let addr = machine.add_host_func(f);
            linker.define(&imp.module, &imp.name, Extern::Func(addr));
        }
    }
    machine.set_fuel(Some(FUEL)).expect("fuel is enabled");
    (machine, linker)
}

/// Zero arguments for a signature whose parameters are all numeric (v128 included);
/// `None` when a parameter is a reference.
pub fn zero_args(ty: &FuncType) -> Option<Vec<Val>> {
    ty.params
        .iter()
        .map(|t| match t {
            ValType::I32 => Some(Val::I32(0)),
            ValType::I64 => Some(Val::I64(0)),
            ValType::F32 => Some(Val::F32(0)),
            ValType::F64 => Some(Val::F64(0)),
            ValType::V128 => Some(Val::V128(0)),
            ValType::FuncRef | ValType::ExternRef => None,
        })
        .collect()
}
