//! Recording overhead and trace size: runs a WASI program that calls its host often
//! (`fixtures/rr/wasm/chatty.O2.wasm`) and a compute-heavy one (`demo`), plainly on wasmtime
//! with weft's WASI host and recorded with every import wrapped, then replays the trace.
//! Prints median times of 5 runs, the overhead, and trace bytes per event. No assertions.
//!
//! `cargo bench -p weft-rr --bench overhead`

use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::{Engine, Linker, Module, Store, Val};
use weft_exec::wasi::{ExternalMemory, OutputSink, WasiConfig, WasiState};
use weft_rr::record::{record_wasi_on, CoreRecorder, RecordOptions};
use weft_rr::replay::{replay_module, ReplayOptions};

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
        "{:<16} {:<12} {:>9} {:>11} {:>9} {:>10} {:>7} {:>11} {:>11}",
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
        let bytes = trace.to_jsonl().len();
        let events = trace.events.len();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<16} {:<12} {:>9.2} {:>11.2} {:>8.1}% {:>10.2} {:>7} {:>11} {:>11.1}",
            file,
            args.join(" "),
            ms(t_plain),
            ms(t_rec),
            (ms(t_rec) / ms(t_plain) - 1.0) * 100.0,
            ms(t_rep),
            events,
            bytes,
            bytes as f64 / events as f64
        );
    }
}
