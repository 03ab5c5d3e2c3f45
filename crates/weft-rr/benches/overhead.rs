//! Recording overhead and trace size: runs a WASI program that calls its host often
//! (`fixtures/rr/wasm/chatty.O2.wasm`) and a compute-heavy one (`demo`), plainly on wasmtime
//! with weft's WASI host and recorded with every import wrapped, then replays the trace.
//! The same two programs wrapped as WASI 0.2 components run plainly on wasmtime-wasi and
//! recorded against it (through the forwarding component), then replayed.
//! Prints median times of 5 runs, the overhead, and trace bytes per event. No assertions.
//!
//! `cargo bench -p weft-rr --bench overhead`

use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::{Engine, Linker, Module, Store, Val};
use weft_exec::wasi::{ExternalMemory, OutputSink, WasiConfig, WasiState};
use weft_rr::component::ComponentRunner;
use weft_rr::record::{record_wasi_on, CoreRecorder, RecordOptions};
use weft_rr::replay::{replay_module, ReplayOptions};
use weft_rr::trace::Trace;
use weft_rr::wasi_p2::{record_command, run_export, WasiForwarder};

struct Slice<'a>(&'a mut [u8]);

impl ExternalMemory for Slice<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read(&self, addr: u64, out: &mut [u8]) {
        out.copy_from_slice(&self.0[addr as usize..addr as usize + out.len()]);
    }
    fn write(&mut self, addr: u64, bytes: &[u8]) {
        self.0[addr as usize..addr as usize + bytes.len()].copy_from_slice(bytes);
    }
}

/// The same program and host without recording.
fn plain(engine: &Engine, module: &Module, args: &[String]) {
    let mut linker: Linker<WasiState> = Linker::new(engine);
    for imp in module.imports() {
        let name = imp.name().to_string();
        let ty = imp.ty().func().expect("function import").clone();
        linker
            .func_new(
                imp.module(),
                imp.name(),
                ty,
                move |mut caller, params, results| {
                    let raw: Vec<u64> = params
                        .iter()
                        .map(|v| match v {
                            Val::I32(x) => *x as u32 as u64,
                            Val::I64(x) => *x as u64,
                            _ => 0,
                        })
                        .collect();
                    let mem = caller
                        .get_export("memory")
                        .and_then(|e| e.into_memory())
                        .expect("memory");
                    let (data, st) = mem.data_and_store_mut(&mut caller);
                    match weft_exec::wasi::call_external(st, &name, Some(&mut Slice(data)), &raw) {
                        Ok(Some(e)) => results[0] = Val::I32(e),
                        Ok(None) => {}
                        Err(e) => return Err(wasmtime::Error::msg(format!("{e:?}"))),
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
    let config = WasiConfig::new()
        .args(args.iter().cloned())
        .stdout(OutputSink::Capture);
    let mut store = Store::new(engine, WasiState::new(config));
    let inst = linker.instantiate(&mut store, module).unwrap();
    let start = inst.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let _ = start.call(&mut store, ());
}

/// State of a plain WASI 0.2 run.
struct PlainP2 {
    ctx: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for PlainP2 {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// A component's `wasi:cli/run` on wasmtime-wasi, without recording.
fn plain_p2(
    linker: &wasmtime::component::Linker<PlainP2>,
    component: &wasmtime::component::Component,
    run: &str,
    args: &[String],
) {
    let ctx = wasmtime_wasi::WasiCtx::builder()
        .args(args)
        .stdout(wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(64 << 20))
        .build();
    let mut store = Store::new(
        linker.engine(),
        PlainP2 {
            ctx,
            table: Default::default(),
        },
    );
    let instance = linker.instantiate(&mut store, component).unwrap();
    let (iface, name) = run.split_once('#').unwrap();
    let iface = instance.get_export_index(&mut store, None, iface).unwrap();
    let func = instance
        .get_export_index(&mut store, Some(&iface), name)
        .and_then(|f| instance.get_func(&mut store, f))
        .unwrap();
    let mut result = [wasmtime::component::Val::Bool(false)];
    let _ = func.call(&mut store, &[], &mut result);
}

fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rr/wasm");
    let cases: &[(&str, &[&str])] = &[
        ("chatty.O2.wasm", &["2000", "100"]),
        ("chatty.O2.wasm", &["2000", "20000"]),
        ("demo.O2.wasm", &["a", "b"]),
    ];
    println!(
        "{:<21} {:<12} {:>9} {:>11} {:>9} {:>10} {:>7} {:>11} {:>11}",
        "program",
        "args",
        "plain ms",
        "record ms",
        "overhead",
        "replay ms",
        "events",
        "trace bytes",
        "bytes/event"
    );
    for (file, args) in cases {
        let wasm = std::fs::read(dir.join(file)).unwrap();
        let argv: Vec<String> = std::iter::once(file.to_string())
            .chain(args.iter().map(|s| s.to_string()))
            .collect();
        // One compiled module for all three: only running is timed.
        let recorder = CoreRecorder::new(&wasm, false).unwrap();
        let (engine, module) = (recorder.engine().clone(), recorder.module().clone());
        let t_plain = median(|| plain(&engine, &module, &argv));
        let opts = RecordOptions {
            args: argv.clone(),
            stdout: OutputSink::Capture,
            ..Default::default()
        };
        let mut trace = None;
        let t_rec = median(|| trace = Some(record_wasi_on(&recorder, &opts).unwrap().trace));
        let trace = trace.unwrap();
        let t_rep = median(|| {
            replay_module(&engine, &module, &trace, &ReplayOptions::default()).unwrap();
        });
        row(file, args, t_plain, t_rec, t_rep, &trace);
    }
    for (file, args) in cases {
        let component =
            weft_rr::wasi_p2::adapt_command(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let argv: Vec<String> = std::iter::once(file.to_string())
            .chain(args.iter().map(|s| s.to_string()))
            .collect();
        // Compiled and linked once: only running is timed.
        let runner = ComponentRunner::new(&component, false).unwrap();
        let forwarder = WasiForwarder::new(&runner, &component).unwrap();
        let run = run_export(&runner).unwrap();
        let compiled = wasmtime::component::Component::new(runner.engine(), &component).unwrap();
        let mut linker = wasmtime::component::Linker::new(runner.engine());
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        let t_plain = median(|| plain_p2(&linker, &compiled, &run, &argv));
        let opts = RecordOptions {
            args: argv.clone(),
            stdout: OutputSink::Capture,
            ..Default::default()
        };
        let mut trace = None;
        let t_rec =
            median(|| trace = Some(record_command(&runner, &forwarder, &opts).unwrap().trace));
        let trace = trace.unwrap();
        let t_rep = median(|| {
            runner.replay(&trace).unwrap();
        });
        row(&format!("{file} (p2)"), args, t_plain, t_rec, t_rep, &trace);
    }
}

fn row(program: &str, args: &[&str], plain: Duration, rec: Duration, rep: Duration, trace: &Trace) {
    let bytes = trace.to_jsonl().len();
    let events = trace.events.len();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:<21} {:<12} {:>9.2} {:>11.2} {:>8.1}% {:>10.2} {:>7} {:>11} {:>11.1}",
        program,
        args.join(" "),
        ms(plain),
        ms(rec),
        (ms(rec) / ms(plain) - 1.0) * 100.0,
        ms(rep),
        events,
        bytes,
        bytes as f64 / events as f64
    );
}
