//! Fuel consumed by the fast interpreter (fuel charged per basic block) equals the exact
//! interpreter's (charged per instruction, wasmtime's model checked by the differential
//! tests), also when a run ends inside nested calls: by returning, by a host exit and by a
//! trap in a callee.

use std::sync::Arc;

use weft_core::{FuncType, Val, ValType};
use weft_exec::concrete::bits_val;
use weft_exec::{
    Concrete, Config, ExecError, Extern, HostError, HostFunc, Linker, Machine, NoObserver,
    Observer, StepView,
};
use weft_ir::Module;

/// `run(n, exit_at)` recurses `n` deep through two defined functions; every call site is
/// followed by arithmetic (charged in advance by the fast interpreter). At depth `exit_at`
/// it calls the host `exit`, which ends the program.
const PROGRAM: &str = r#"
(module
  (import "env" "exit" (func $exit (param i32)))
  (global $acc (mut i32) (i32.const 0))
  (func $down (export "run") (param $n i32) (param $exit_at i32) (result i32)
    (if (i32.eq (local.get $n) (local.get $exit_at))
      (then (call $exit (local.get $n))))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 7))))
    (call $side (i32.sub (local.get $n) (i32.const 1)) (local.get $exit_at))
    (i32.mul (i32.const 3))
    (i32.add (local.get $n))
    (i32.xor (i32.const 0x55))
    (global.set $acc (i32.add (global.get $acc) (i32.const 1)))
    (call $side (i32.const 0) (i32.const -1))
    (i32.add))
  (func $side (param $n i32) (param $exit_at i32) (result i32)
    (call $down (local.get $n) (local.get $exit_at))
    (i32.rotl (i32.const 5))
    (i32.sub (i32.const 11))
    (i32.div_u (i32.const 2)))
)
"#;

/// Steps every instruction, which makes the machine run exact-mode code.
#[derive(Default)]
struct Stepper;

impl Observer<Concrete> for Stepper {
    fn before_step(&mut self, _view: &StepView<'_, Concrete>) {}
}

fn linker_with_exit<O: Observer<Concrete>>(machine: &mut Machine<Concrete, O>) -> Linker {
    let exit = HostFunc::new(
        FuncType {
            params: vec![ValType::I32],
            results: vec![],
        },
        |_ctx, args| match bits_val(args[0], ValType::I32) {
            Val::I32(code) => Err(HostError::Exit(code)),
            other => Err(HostError::Trap(format!("exit takes an i32, got {other:?}"))),
        },
    );
    let addr = machine.add_host_func(exit);
    let mut linker = Linker::new();
    linker.define("env", "exit", Extern::Func(addr));
    linker
}

/// Instantiates `wat` in a metered machine (imports from `linker`) and calls its export
/// `run` with `args` under `budget`; returns the outcome and the fuel the call consumed.
fn run_metered<O: Observer<Concrete>>(
    observer: O,
    wat: &str,
    linker: impl FnOnce(&mut Machine<Concrete, O>) -> Linker,
    args: &[Val],
    budget: Option<u64>,
) -> (Result<Vec<Val>, ExecError>, u64) {
    let module = Arc::new(Module::from_bytes_or_text(wat.as_bytes()).expect("valid module"));
    let mut machine = Machine::new(
        Concrete,
        observer,
        Config {
            fuel: true,
            ..Config::default()
        },
    );
    let linker = linker(&mut machine);
    let instance = machine.instantiate(module, &linker).expect("instantiates");
    machine.set_fuel(budget).expect("metering is on");
    let before = machine.fuel_consumed();
    let out = machine.invoke(instance, "run", args);
    (out, machine.fuel_consumed() - before)
}

/// Runs `run(n, exit_at)` with fuel metering and returns its outcome and the fuel consumed.
fn run<O: Observer<Concrete>>(
    observer: O,
    n: i32,
    exit_at: i32,
    fuel: Option<u64>,
) -> (Result<Vec<Val>, ExecError>, u64) {
    let args = [Val::I32(n), Val::I32(exit_at)];
    run_metered(observer, PROGRAM, linker_with_exit, &args, fuel)
}

#[test]
fn completed_run_consumes_the_same_fuel() {
    for n in [0, 1, 2, 5, 9] {
        let (fast, fast_fuel) = run(NoObserver, n, -1, None);
        let (exact, exact_fuel) = run(Stepper, n, -1, None);
        assert_eq!(fast.as_ref().ok(), exact.as_ref().ok(), "n = {n}");
        assert!(fast.is_ok(), "n = {n}: {fast:?}");
        assert_eq!(fast_fuel, exact_fuel, "n = {n}");
    }
}

#[test]
fn host_exit_deep_in_calls_consumes_the_same_fuel() {
    for (n, exit_at) in [(6, 0), (6, 3), (9, 8), (9, 1)] {
        let (fast, fast_fuel) = run(NoObserver, n, exit_at, None);
        let (exact, exact_fuel) = run(Stepper, n, exit_at, None);
        assert!(
            matches!(fast, Err(ExecError::Exit(code)) if code == exit_at),
            "fast: {fast:?}"
        );
        assert!(
            matches!(exact, Err(ExecError::Exit(code)) if code == exit_at),
            "exact: {exact:?}"
        );
        assert_eq!(fast_fuel, exact_fuel, "n = {n}, exit at {exit_at}");
    }
}

#[test]
fn fuel_budget_of_a_completed_run_is_enough_and_one_less_is_not() {
    let (_, needed) = run(NoObserver, 7, -1, None);
    let (ok, used) = run(NoObserver, 7, -1, Some(needed));
    assert!(ok.is_ok(), "{ok:?}");
    assert_eq!(used, needed);
    let (short, _) = run(NoObserver, 7, -1, Some(needed - 1));
    assert!(
        matches!(&short, Err(ExecError::Trap(t)) if t.code == weft_core::TrapCode::OutOfFuel),
        "{short:?}"
    );
}

#[test]
fn unwinding_never_reports_more_fuel_than_the_budget() {
    let (_, needed) = run(NoObserver, 8, 2, None);
    for budget in [needed / 3, needed / 2, needed - 1, needed] {
        let (_, used) = run(NoObserver, 8, 2, Some(budget));
        assert!(used <= budget, "budget {budget}, consumed {used}");
    }
}

/// Loops whose back edges and exits carry their target block's charge, calls that charge the
/// callee's entry block, constant stores and branches on locals: every shortcut the fast
/// interpreter takes with fuel.
const LOOPS: &str = r#"
(module
  (memory 1)
  (func $sum (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.const 7))
        (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  (func (export "run") (param $n i32) (result i32) (local $k i32) (local $acc i32)
    (local.set $k (local.get $n))
    (loop $again
      (local.set $acc (i32.add (local.get $acc) (call $sum (local.get $k))))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $again (local.get $k)))
    (local.get $acc)))
"#;

/// Runs `run(n)` of [`LOOPS`] under `budget`; returns the outcome and the fuel consumed.
fn run_loops<O: Observer<Concrete>>(
    observer: O,
    n: i32,
    budget: Option<u64>,
) -> (Result<Vec<Val>, ExecError>, u64) {
    run_metered(observer, LOOPS, |_| Linker::new(), &[Val::I32(n)], budget)
}

#[test]
fn every_budget_completes_exactly_when_the_per_instruction_count_fits() {
    let (exact, needed) = run_loops(Stepper, 6, None);
    let (fast, fast_needed) = run_loops(NoObserver, 6, None);
    assert_eq!(exact.as_ref().ok(), fast.as_ref().ok());
    assert_eq!(
        exact.expect("completes"),
        vec![Val::I32(7 * (1 + 2 + 3 + 4 + 5 + 6))]
    );
    assert_eq!(fast_needed, needed);
    for budget in 0..=needed + 2 {
        let (out, used) = run_loops(NoObserver, 6, Some(budget));
        if budget >= needed {
            assert!(out.is_ok(), "budget {budget}: {out:?}");
            assert_eq!(used, needed, "budget {budget}");
        } else {
            assert!(
                matches!(&out, Err(ExecError::Trap(t))
                    if t.code == weft_core::TrapCode::OutOfFuel && t.offset.is_some()),
                "budget {budget}: {out:?}"
            );
            assert!(used <= budget, "budget {budget}, consumed {used}");
        }
    }
}
