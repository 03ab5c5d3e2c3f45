//! Seeded fuzzing of core modules: export arguments and import results are generated from
//! their types (biased towards constants found in the module, small numbers and edge
//! values), each run is recorded, and every run that traps is kept as a trace that
//! [`crate::replay::replay`] reproduces. The same seed gives the same runs.

use crate::memory::LoggedMemory;
use crate::record::{CoreHost, CoreRecorder, End, HostStop};
use crate::trace::Trace;
use crate::RrError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::path::PathBuf;
use wasmtime::{FuncType, Val, ValType};

/// How to fuzz.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Seed of the whole session.
    pub seed: u64,
    /// Number of runs.
    pub iterations: u64,
    /// Fuel per run (wasmtime's cost model); a run that spends it is not a failure.
    pub fuel: u64,
    /// Most export calls per run.
    pub max_calls: usize,
    /// Call only this export (default: `_start` if exported, else every export whose
    /// parameters are numbers).
    pub export: Option<String>,
    /// Where failing traces are written (`failure-<run>.jsonl`), if anywhere.
    pub out_dir: Option<PathBuf>,
    /// Largest list/string length generated for component values.
    pub max_size: usize,
    /// Deepest nesting generated for component values.
    pub max_depth: usize,
    /// Most trace events per run (components); a run that reaches it counts as stopped.
    pub max_events: usize,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            iterations: 1000,
            fuel: 10_000_000,
            max_calls: 3,
            export: None,
            out_dir: None,
            max_size: 8,
            max_depth: 4,
            max_events: 10_000,
        }
    }
}

/// A run that trapped.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Run number.
    pub run: u64,
    /// The trap message.
    pub message: String,
    /// The trace of the run.
    pub trace: Trace,
    /// Where the trace was written.
    pub path: Option<PathBuf>,
}

/// The result of a session.
#[derive(Clone, Debug, Default)]
pub struct FuzzReport {
    /// Runs made.
    pub runs: u64,
    /// Runs that returned or exited.
    pub passed: u64,
    /// Runs stopped by a limit (fuel, or events for components).
    pub out_of_fuel: u64,
    /// Runs that trapped.
    pub failures: Vec<Failure>,
}

impl FuzzReport {
    /// The distinct trap messages found.
    pub fn distinct(&self) -> BTreeSet<&str> {
        self.failures.iter().map(|f| f.message.as_str()).collect()
    }
}

/// Generates values from types.
pub struct ValueGen {
    rng: ChaCha8Rng,
    dict: Vec<i64>,
}

impl ValueGen {
    /// A generator with its own seed and a dictionary of interesting integers.
    pub fn new(seed: u64, dict: Vec<i64>) -> Self {
        ValueGen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            dict,
        }
    }

    /// The random source.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// An integer: from the dictionary (±1), small, an edge value, or uniform.
    pub fn int(&mut self, bits: u32) -> i64 {
        let r = self.rng.gen_range(0..100);
        let v: i64 = if r < 30 && !self.dict.is_empty() {
            let d = self.dict[self.rng.gen_range(0..self.dict.len())];
            if self.rng.gen_range(0..5) == 0 {
                d + if self.rng.gen() { 1 } else { -1 }
            } else {
                d
            }
        } else if r < 60 {
            self.rng.gen_range(-16..256)
        } else if r < 70 {
            [
                0,
                1,
                -1,
                i64::MIN,
                i64::MAX,
                i32::MIN as i64,
                i32::MAX as i64,
                u32::MAX as i64,
            ][self.rng.gen_range(0..8)]
        } else {
            self.rng.gen::<i64>()
        };
        if bits == 32 {
            v as i32 as i64
        } else {
            v
        }
    }

    /// A float's bits: an edge value (zeros, infinities, NaNs), a small integer, or uniform bits.
    pub fn float_bits(&mut self, bits: u32) -> u64 {
        let r = self.rng.gen_range(0..100);
        if bits == 32 {
            let specials = [
                0u32,
                0x8000_0000,
                0x7f80_0000,
                0xff80_0000,
                0x7fc0_0000,
                0x3f80_0000,
            ];
            if r < 20 {
                specials[self.rng.gen_range(0..specials.len())] as u64
            } else if r < 60 {
                (self.int(32) as f32).to_bits() as u64
            } else {
                self.rng.gen::<u32>() as u64
            }
        } else {
            let specials = [
                0u64,
                1 << 63,
                0x7ff0_0000_0000_0000,
                0xfff0_0000_0000_0000,
                0x7ff8_0000_0000_0000,
                0x3ff0_0000_0000_0000,
            ];
            if r < 20 {
                specials[self.rng.gen_range(0..specials.len())]
            } else if r < 60 {
                (self.int(64) as f64).to_bits()
            } else {
                self.rng.gen::<u64>()
            }
        }
    }

    /// A core value of type `ty`, `None` for reference types other than null.
    pub fn core(&mut self, ty: &ValType) -> Option<Val> {
        Some(match ty {
            ValType::I32 => Val::I32(self.int(32) as i32),
            ValType::I64 => Val::I64(self.int(64)),
            ValType::F32 => Val::F32(self.float_bits(32) as u32),
            ValType::F64 => Val::F64(self.float_bits(64)),
            ValType::V128 => Val::V128(self.rng.gen::<u128>().into()),
            ValType::Ref(r) if r.is_nullable() => Val::null_ref(r.heap_type()),
            ValType::Ref(_) => return None,
        })
    }
}

/// Integer constants of the module's code (`i32.const`/`i64.const`), at most 256.
pub fn harvest_constants(wasm: &[u8]) -> Vec<i64> {
    let mut set = BTreeSet::new();
    for p in wasmparser::Parser::new(0).parse_all(wasm).flatten() {
        if let wasmparser::Payload::CodeSectionEntry(body) = p {
            let Ok(mut ops) = body.get_operators_reader() else {
                continue;
            };
            while !ops.eof() {
                match ops.read() {
                    Ok(wasmparser::Operator::I32Const { value }) => {
                        set.insert(value as i64);
                    }
                    Ok(wasmparser::Operator::I64Const { value }) => {
                        set.insert(value);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
    }
    set.into_iter().take(256).collect()
}

/// A host answering every import with generated results (`proc_exit` exits).
pub struct FuzzHost {
    gen: ValueGen,
}

impl CoreHost for FuzzHost {
    fn call(
        &mut self,
        module: &str,
        name: &str,
        ty: &FuncType,
        args: &[Val],
        _memory: Option<&mut LoggedMemory<'_>>,
        results: &mut [Val],
    ) -> Result<(), HostStop> {
        if module == crate::wasi_schema::MODULE && name == "proc_exit" {
            return Err(HostStop::Exit(
                args.first().and_then(|v| v.i32()).unwrap_or(0),
            ));
        }
        for (r, t) in results.iter_mut().zip(ty.results()) {
            *r = self.gen.core(&t).ok_or_else(|| {
                HostStop::Trap(format!("cannot generate a {t} for {module}.{name}"))
            })?;
        }
        Ok(())
    }
}

/// Fuzzes a core module.
pub fn fuzz_core(wasm: &[u8], opts: &FuzzOptions) -> Result<FuzzReport, RrError> {
    let recorder: CoreRecorder<FuzzHost> = CoreRecorder::new(wasm, true)?;
    let dict = harvest_constants(wasm);
    // Exports to call, with their types.
    let module = recorder.module();
    let funcs: Vec<(String, FuncType)> = module
        .exports()
        .filter_map(|e| match e.ty() {
            wasmtime::ExternType::Func(f) => Some((e.name().to_string(), f)),
            _ => None,
        })
        .collect();
    let targets: Vec<(String, FuncType)> = match &opts.export {
        Some(name) => {
            let f = funcs.iter().find(|(n, _)| n == name).ok_or_else(|| {
                RrError::Input(format!("the module exports no function `{name}`"))
            })?;
            vec![f.clone()]
        }
        None if funcs.iter().any(|(n, _)| n == "_start") => {
            funcs.into_iter().filter(|(n, _)| n == "_start").collect()
        }
        None => funcs
            .into_iter()
            .filter(|(_, t)| t.params().all(|p| !matches!(p, ValType::Ref(_))))
            .collect(),
    };
    if targets.is_empty() {
        return Err(RrError::Input(
            "the module exports no function that can be fuzzed".into(),
        ));
    }
    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| RrError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let mut report = FuzzReport::default();
    for run in 0..opts.iterations {
        let run_seed = opts
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(run);
        let mut gen = ValueGen::new(run_seed, dict.clone());
        let n_calls = gen.rng().gen_range(1..=opts.max_calls.max(1));
        let mut calls = Vec::new();
        for _ in 0..n_calls {
            let (name, ty) = &targets[gen.rng().gen_range(0..targets.len())];
            let args: Option<Vec<Val>> = ty.params().map(|t| gen.core(&t)).collect();
            calls.push((name.clone(), args.unwrap_or_default()));
        }
        let host = FuzzHost {
            gen: ValueGen::new(run_seed ^ 0x5151_5151, dict.clone()),
        };
        let (trace, end, _) = recorder.run(host, &calls, Some(opts.fuel), Vec::new())?;
        report.runs += 1;
        match end {
            End::Exit(_) => report.passed += 1,
            End::Trap(m) if m.contains("fuel") => report.out_of_fuel += 1,
            End::Trap(message) => {
                let path = match &opts.out_dir {
                    Some(dir) => {
                        let p = dir.join(format!("failure-{run}.jsonl"));
                        trace.write(&p)?;
                        Some(p)
                    }
                    None => None,
                };
                report.failures.push(Failure {
                    run,
                    message,
                    trace,
                    path,
                });
            }
        }
    }
    Ok(report)
}
