//! Runs WebAssembly spec-test scripts (`.wast`) on the concrete machine.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};
use weft_core::{FuncType, TrapCode, Val, ValType};
use weft_exec::{
    Concrete, Config, ExecError, Extern, HostFunc, LinkError, Linker, Machine, NoObserver,
};
use weft_ir::Module;

/// Outcome of running one or more scripts.
#[derive(Debug, Default)]
pub struct Summary {
    /// Assertions (and module definitions) that held.
    pub passed: usize,
    /// Failures, as `file:line: reason`.
    pub failures: Vec<String>,
    /// Directives not run, as `file:line: reason`.
    pub skipped: Vec<String>,
}

impl Summary {
    /// Number of failures.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Adds another summary.
    pub fn merge(&mut self, other: Summary) {
        self.passed += other.passed;
        self.failures.extend(other.failures);
        self.skipped.extend(other.skipped);
    }
}

struct Runner {
    machine: Machine<Concrete, NoObserver>,
    linker: Linker,
    current: Option<u32>,
    named: HashMap<String, u32>,
    definitions: HashMap<String, Arc<Module>>,
    last_definition: Option<Arc<Module>>,
}

fn spectest(machine: &mut Machine<Concrete, NoObserver>, linker: &mut Linker) {
    use weft_exec::store::{GlobalInst, MemoryInst, TableInst};
    use weft_exec::LinearMemory;
    let print = |params: &[ValType]| {
        HostFunc::new(FuncType::new(params.to_vec(), vec![]), |_, _| Ok(vec![]))
    };
    for (name, params) in [
        ("print", &[][..]),
        ("print_i32", &[ValType::I32][..]),
        ("print_i64", &[ValType::I64][..]),
        ("print_f32", &[ValType::F32][..]),
        ("print_f64", &[ValType::F64][..]),
        ("print_i32_f32", &[ValType::I32, ValType::F32][..]),
        ("print_f64_f64", &[ValType::F64, ValType::F64][..]),
    ] {
        let a = machine.add_host_func(print(params));
        linker.define("spectest", name, Extern::Func(a));
    }
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.to_bits())),
        ("global_f64", Val::F64(666.6f64.to_bits())),
    ];
    for (name, v) in globals {
        let value = weft_exec::concrete::val_bits(v);
        machine.store.globals.push(GlobalInst {
            value,
            ty: weft_ir::GlobalType {
                ty: v.ty(),
                mutable: false,
            },
        });
        let addr = machine.store.globals.len() as u32 - 1;
        linker.define("spectest", name, Extern::Global(addr));
    }
    machine.store.tables.push(TableInst {
        ty: ValType::FuncRef,
        elements: vec![weft_core::RefValue::Null; 10],
        max: Some(20),
    });
    let t = machine.store.tables.len() as u32 - 1;
    linker.define("spectest", "table", Extern::Table(t));
    machine.store.memories.push(MemoryInst {
        mem: weft_exec::ConcreteMemory::with_pages(1),
        max: Some(2),
    });
    let m = machine.store.memories.len() as u32 - 1;
    linker.define("spectest", "memory", Extern::Memory(m));
}

/// The trap code a spec-test message names.
fn expected_trap(message: &str) -> Option<TrapCode> {
    let table = [
        ("unreachable", TrapCode::Unreachable),
        ("integer divide by zero", TrapCode::IntegerDivideByZero),
        ("integer overflow", TrapCode::IntegerOverflow),
        (
            "invalid conversion to integer",
            TrapCode::BadConversionToInteger,
        ),
        ("out of bounds memory access", TrapCode::MemoryOutOfBounds),
        ("out of bounds table access", TrapCode::TableOutOfBounds),
        ("undefined element", TrapCode::TableOutOfBounds),
        ("uninitialized element", TrapCode::IndirectCallToNull),
        (
            "indirect call type mismatch",
            TrapCode::IndirectCallTypeMismatch,
        ),
        ("call stack exhausted", TrapCode::StackExhausted),
    ];
    table
        .iter()
        .find(|(m, _)| message.starts_with(m))
        .map(|(_, c)| *c)
}

fn arg_val(arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(core) = arg else {
        return Err("component argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(f) => Val::F32(f.bits),
        WastArgCore::F64(f) => Val::F64(f.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(h) => null_of(h)?,
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::RefHost(_) => return Err("ref.host argument".into()),
    })
}

fn null_of(h: &HeapType<'_>) -> Result<Val, String> {
    match h {
        HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        } => Ok(Val::FuncRef(None)),
        HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        } => Ok(Val::ExternRef(None)),
        other => Err(format!("unsupported heap type {other:?}")),
    }
}

fn f32_matches(p: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => f32::from_bits(bits).is_nan() && bits & 0x0040_0000 != 0,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => {
            f64::from_bits(bits).is_nan() && bits & 0x0008_0000_0000_0000 != 0
        }
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn lanes<const N: usize>(v: u128) -> [u128; N] {
    let w = 128 / N;
    let mask = if w == 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    };
    std::array::from_fn(|i| (v >> (i * w)) & mask)
}

fn ret_matches(pattern: &WastRetCore<'_>, v: &Val) -> bool {
    match (pattern, v) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(p), Val::F32(a)) => f32_matches(p, *a),
        (WastRetCore::F64(p), Val::F64(a)) => f64_matches(p, *a),
        (WastRetCore::V128(p), Val::V128(a)) => match p {
            V128Pattern::I8x16(e) => lanes::<16>(*a)
                .iter()
                .zip(e)
                .all(|(a, e)| *a as u8 == *e as u8),
            V128Pattern::I16x8(e) => lanes::<8>(*a)
                .iter()
                .zip(e)
                .all(|(a, e)| *a as u16 == *e as u16),
            V128Pattern::I32x4(e) => lanes::<4>(*a)
                .iter()
                .zip(e)
                .all(|(a, e)| *a as u32 == *e as u32),
            V128Pattern::I64x2(e) => lanes::<2>(*a)
                .iter()
                .zip(e)
                .all(|(a, e)| *a as u64 == *e as u64),
            V128Pattern::F32x4(e) => lanes::<4>(*a)
                .iter()
                .zip(e)
                .all(|(a, p)| f32_matches(p, *a as u32)),
            V128Pattern::F64x2(e) => lanes::<2>(*a)
                .iter()
                .zip(e)
                .all(|(a, p)| f64_matches(p, *a as u64)),
        },
        (WastRetCore::RefNull(_), Val::FuncRef(None) | Val::ExternRef(None)) => true,
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(e)), Val::ExternRef(Some(a))) => e == a,
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(cases), v) => cases.iter().any(|c| ret_matches(c, v)),
        _ => false,
    }
}

impl Runner {
    fn new() -> Self {
        let mut machine = Machine::new(Concrete, NoObserver, Config::default());
        let mut linker = Linker::new();
        spectest(&mut machine, &mut linker);
        Runner {
            machine,
            linker,
            current: None,
            named: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        }
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<u32, String> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("unknown module ${}", id.name())),
            None => self
                .current
                .ok_or_else(|| "no module instantiated".to_string()),
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Result<Vec<Val>, ExecError>, String> {
        let inst = self.instance(inv.module)?;
        let args = inv
            .args
            .iter()
            .map(arg_val)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.machine.invoke(inst, inv.name, &args))
    }

    fn execute(
        &mut self,
        exec: &mut WastExecute<'_>,
    ) -> Result<Result<Vec<Val>, ExecError>, String> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Wat(wat) => {
                let bytes = wat.encode().map_err(|e| e.to_string())?;
                let module = Module::new(&bytes).map_err(|e| e.to_string())?;
                match self.machine.instantiate(Arc::new(module), &self.linker) {
                    Ok(_) => Ok(Ok(vec![])),
                    Err(LinkError::Exec(e)) => Ok(Err(e)),
                    Err(e) => Err(format!("instantiation failed without trap: {e}")),
                }
            }
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(*module)?;
                match self.machine.store.export(inst, global) {
                    Some(Extern::Global(a)) => Ok(self.machine.global_val(a).map(|v| vec![v])),
                    _ => Err(format!("no global export `{global}`")),
                }
            }
        }
    }

    fn define_module(&mut self, qw: &mut QuoteWat<'_>) -> Result<Arc<Module>, String> {
        let bytes = qw
            .encode()
            .map_err(|e| format!("cannot encode module: {e}"))?;
        Module::new(&bytes).map(Arc::new).map_err(|e| e.to_string())
    }

    fn instantiate(&mut self, module: Arc<Module>, name: Option<&str>) -> Result<(), String> {
        let id = self
            .machine
            .instantiate(module, &self.linker)
            .map_err(|e| e.to_string())?;
        self.current = Some(id);
        if let Some(n) = name {
            self.named.insert(n.to_string(), id);
        }
        Ok(())
    }

    /// Runs one directive: Ok(true) passed, Ok(false) skipped (reason in Err of skip), Err failed.
    fn directive(&mut self, d: WastDirective<'_>) -> Result<Outcome, String> {
        match d {
            WastDirective::Module(mut qw) => {
                let name = qw.name().map(|n| n.name().to_string());
                let m = self.define_module(&mut qw)?;
                self.instantiate(m, name.as_deref())?;
                Ok(Outcome::Pass)
            }
            WastDirective::ModuleDefinition(mut qw) => {
                let name = qw.name().map(|n| n.name().to_string());
                let m = self.define_module(&mut qw)?;
                if let Some(n) = name {
                    self.definitions.insert(n, m.clone());
                }
                self.last_definition = Some(m);
                Ok(Outcome::Pass)
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let m = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                }
                .ok_or("unknown module definition")?;
                self.instantiate(m, instance.map(|i| i.name()))?;
                Ok(Outcome::Pass)
            }
            WastDirective::Register { name, module, .. } => {
                let inst = self.instance(module)?;
                self.linker.define_instance(&self.machine.store, name, inst);
                Ok(Outcome::Pass)
            }
            WastDirective::Invoke(inv) => match self.invoke(&inv)? {
                Ok(_) => Ok(Outcome::Pass),
                Err(e) => Err(format!("invoke `{}` failed: {e}", inv.name)),
            },
            WastDirective::AssertReturn {
                mut exec, results, ..
            } => {
                let got = self
                    .execute(&mut exec)?
                    .map_err(|e| format!("expected return, got {e}"))?;
                if got.len() != results.len() {
                    return Err(format!(
                        "expected {} results, got {}",
                        results.len(),
                        got.len()
                    ));
                }
                for (i, (r, v)) in results.iter().zip(&got).enumerate() {
                    let WastRet::Core(p) = r else {
                        return Ok(Outcome::Skip("component result".into()));
                    };
                    if !ret_matches(p, v) {
                        return Err(format!("result {i}: expected {p:?}, got {v}"));
                    }
                }
                Ok(Outcome::Pass)
            }
            WastDirective::AssertTrap {
                mut exec, message, ..
            } => match self.execute(&mut exec)? {
                Ok(v) => Err(format!("expected trap `{message}`, got {v:?}")),
                Err(ExecError::Trap(t)) => match expected_trap(message) {
                    Some(code) if code != t.code => {
                        Err(format!("expected trap `{message}`, got `{t}`"))
                    }
                    _ => Ok(Outcome::Pass),
                },
                Err(e) => Err(format!("expected trap `{message}`, got {e}")),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Err(ExecError::Trap(t)) if t.code == TrapCode::StackExhausted => Ok(Outcome::Pass),
                other => Err(format!("expected `{message}`, got {other:?}")),
            },
            WastDirective::AssertMalformed { mut module, .. }
            | WastDirective::AssertInvalid { mut module, .. } => {
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(_) => return Ok(Outcome::Pass),
                };
                match Module::new(&bytes) {
                    Ok(_) => Err("module was accepted".into()),
                    Err(_) => Ok(Outcome::Pass),
                }
            }
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module.encode().map_err(|e| e.to_string())?;
                let m = Module::new(&bytes).map_err(|e| e.to_string())?;
                match self.machine.instantiate(Arc::new(m), &self.linker) {
                    Ok(_) => Err(format!("expected unlinkable `{message}`, instantiated")),
                    Err(_) => Ok(Outcome::Pass),
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => Ok(Outcome::Skip(
                "custom-section assertions are not part of WebAssembly 2.0".into(),
            )),
            WastDirective::AssertException { .. } => Ok(Outcome::Skip(
                "exception handling is not part of WebAssembly 2.0".into(),
            )),
            WastDirective::AssertSuspension { .. } => Ok(Outcome::Skip(
                "stack switching is not part of WebAssembly 2.0".into(),
            )),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => Ok(Outcome::Skip(
                "threads are not part of WebAssembly 2.0".into(),
            )),
        }
    }
}

enum Outcome {
    Pass,
    Skip(String),
}

/// Runs a script given its file name (for messages) and text.
pub fn run_script(name: &str, text: &str) -> Summary {
    let mut summary = Summary::default();
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            summary.failures.push(format!("{name}: cannot lex: {e}"));
            return summary;
        }
    };
    let wast: Wast<'_> = match parser::parse(&buf) {
        Ok(w) => w,
        Err(mut e) => {
            e.set_text(text);
            summary.failures.push(format!("{name}: cannot parse: {e}"));
            return summary;
        }
    };
    let mut runner = Runner::new();
    for d in wast.directives {
        let (line, _) = d.span().linecol_in(text);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.directive(d)));
        match result {
            Ok(Ok(Outcome::Pass)) => summary.passed += 1,
            Ok(Ok(Outcome::Skip(why))) => {
                summary.skipped.push(format!("{name}:{}: {why}", line + 1))
            }
            Ok(Err(why)) => summary.failures.push(format!("{name}:{}: {why}", line + 1)),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                summary
                    .failures
                    .push(format!("{name}:{}: PANIC {msg}", line + 1));
                // The machine may be inconsistent after a panic: start afresh.
                runner = Runner::new();
            }
        }
    }
    summary
}

/// Formats a summary: failures, skipped directives and the closing `N passed, M failed` line.
pub fn report(summary: &Summary, verbose_skips: bool) -> String {
    let mut out = String::new();
    for f in &summary.failures {
        let _ = writeln!(out, "FAIL {f}");
    }
    if verbose_skips {
        for s in &summary.skipped {
            let _ = writeln!(out, "skip {s}");
        }
    } else if !summary.skipped.is_empty() {
        let _ = writeln!(
            out,
            "{} directives skipped (use --show-skipped)",
            summary.skipped.len()
        );
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        summary.passed,
        summary.failed()
    );
    out
}
