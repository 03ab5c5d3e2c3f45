//! Traces of the C fixtures, checked against the engine and against themselves: row counts,
//! fuel recomputed from the rows, memory rebuilt from the memory rows, verification of real
//! and tampered traces, windows, filters, tables and statistics.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_exec::wasi::{self, InputSource, OutputSink, WasiConfig};
use weft_exec::{
    Concrete, Config, Limits, LinearMemory, Linker, Machine, NoObserver, Observer, StepView,
};
use weft_ir::Module;
use weft_trace::binary::{BinaryReader, BinaryWriter};
use weft_trace::jsonl::JsonlWriter;
use weft_trace::verify::{verify, Verdict};
use weft_trace::{
    read_trace, run_traced, Access, ByteSource, Capture, Filter, Header, Invocation, ModuleInfo,
    Row, RowSink, Summary, TraceOptions,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn load(rel: &str) -> Arc<Module> {
    let bytes = std::fs::read(fixture(rel)).expect("fixture present");
    Arc::new(Module::new(&bytes).expect("fixture valid"))
}

/// A run of a fixture, small enough to trace in JSON in a test: a WASI command (with host
/// memory writes) or an export of a bare kernel.
struct Case {
    wasm: &'static str,
    /// `None`: a WASI command; `Some(n)`: `run(n)` of a bench kernel.
    invoke: Option<i32>,
    args: &'static [&'static str],
    stdin: &'static [u8],
}

const CASES: &[Case] = &[
    Case {
        wasm: "wasm/sort.wasm",
        invoke: None,
        args: &["40"],
        stdin: b"",
    },
    Case {
        wasm: "wasm/wasi_io.wasm",
        invoke: None,
        args: &["a", "b"],
        stdin: b"hello\nworld\n",
    },
    Case {
        wasm: "wasm/bench/sha256.wasm",
        invoke: Some(2),
        args: &[],
        stdin: b"",
    },
    Case {
        wasm: "wasm/bench/fib.wasm",
        invoke: Some(12),
        args: &[],
        stdin: b"",
    },
];

fn invocation(c: &Case) -> Invocation {
    match c.invoke {
        Some(n) => Invocation::Invoke {
            export: "run".into(),
            args: vec![n.to_string()],
        },
        None => Invocation::Command {
            args: c.args.iter().map(|s| s.to_string()).collect(),
            program: "prog.wasm".into(),
            env: vec![("WEFT_TEST".into(), "yes".into())],
            stdin_hex: c.stdin.iter().map(|b| format!("{b:02x}")).collect(),
            seed: 7,
        },
    }
}

/// Runs a case on a plain machine with `observer`; returns the fuel consumed and the
/// instance's memory 0 at the end.
fn plain_run<O: Observer<Concrete>>(c: &Case, observer: O) -> (O, u64, Vec<u8>) {
    let mut machine = Machine::new(
        Concrete,
        observer,
        Config {
            fuel: true,
            limits: Limits::default(),
        },
    );
    let module = load(c.wasm);
    let mut linker = Linker::new();
    let fuel = match c.invoke {
        None => {
            wasi::run_command_in(&mut machine, &mut linker, module, wasi_config(c))
                .unwrap()
                .fuel_consumed
        }
        Some(n) => {
            let inst = machine.instantiate(module, &linker).unwrap();
            machine
                .invoke(inst, "run", &[weft_core::Val::I32(n)])
                .unwrap();
            machine.fuel_consumed()
        }
    };
    let inst = machine.store.instances.len() - 1;
    let mem_addr = machine.store.instances[inst].memories[0];
    let m = &machine.store.memories[mem_addr as usize].mem;
    let mem = weft_exec::machine::read_memory(m, 0, LinearMemory::size_bytes(m) as usize).unwrap();
    let Machine { observer, .. } = machine;
    (observer, fuel, mem)
}

/// Collects rows in memory.
#[derive(Default)]
struct Collect {
    rows: Vec<Row>,
    summary: Option<Summary>,
}

impl RowSink for Collect {
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        self.rows.push(row.clone());
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }
}

fn trace_rows(c: &Case, options: TraceOptions) -> (Vec<Row>, Summary) {
    trace_rows_with_fuel(c, options, None)
}

fn trace_rows_with_fuel(
    c: &Case,
    options: TraceOptions,
    fuel_limit: Option<u64>,
) -> (Vec<Row>, Summary) {
    let module = load(c.wasm);
    let info = Arc::new(ModuleInfo::new(&module).unwrap());
    let (outcome, sink) = run_traced(
        module,
        info,
        &invocation(c),
        fuel_limit,
        Limits::default(),
        options,
        Collect::default(),
        true,
        false,
    )
    .unwrap();
    assert_eq!(sink.summary.as_ref(), Some(&outcome.summary));
    (sink.rows, outcome.summary)
}

/// Counts steps through the engine's observer interface, independently of the tracer.
#[derive(Default)]
struct StepCounter(u64);
impl Observer<Concrete> for StepCounter {
    fn before_step(&mut self, _view: &StepView<'_, Concrete>) {
        self.0 += 1;
    }
}

fn wasi_config(c: &Case) -> WasiConfig {
    WasiConfig::new()
        .arg("prog.wasm")
        .args(c.args.iter().copied())
        .env("WEFT_TEST", "yes")
        .stdin(InputSource::Bytes(c.stdin.to_vec()))
        .stdout(OutputSink::Capture)
        .random_seed(7)
        .deterministic_clock(0, 1_000_000)
}

/// Fuel of one row in wasmtime's cost model, from the row alone.
fn row_fuel(row: &Row) -> u64 {
    let free = matches!(
        row.mnemonic(),
        "nop" | "drop" | "block" | "loop" | "unreachable" | "return" | "else" | "end"
    );
    let bulk: u64 = match row.mnemonic() {
        "memory.fill" | "memory.copy" | "memory.init" => row
            .bytes
            .iter()
            .filter(|b| b.kind == Access::Write)
            .map(|b| b.bytes.len() as u64)
            .sum(),
        _ => 0,
    };
    (!free) as u64 + bulk + row.call.is_some() as u64
}

#[test]
fn rows_equal_steps_and_fuel_follows_from_the_rows() {
    for c in CASES {
        let (rows, summary) = trace_rows(c, TraceOptions::default());
        let (counter, fuel, _) = plain_run(c, StepCounter::default());
        assert_eq!(rows.len() as u64, counter.0, "{}: rows vs steps", c.wasm);
        assert_eq!(summary.steps, counter.0, "{}", c.wasm);
        assert_eq!(summary.fuel, fuel, "{}", c.wasm);
        // One function entry for the called export, then one per call row.
        let fuel: u64 = 1 + rows.iter().map(row_fuel).sum::<u64>();
        assert_eq!(fuel, summary.fuel, "{}: fuel recomputed from rows", c.wasm);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.step, i as u64);
            assert_eq!(r.stack.len() as u32, r.stack_depth, "full capture");
            assert!(
                r.stack.iter().all(|v| v.ty.is_some()),
                "typed stack at step {i}"
            );
        }
        // Fuel in rows is monotonic and ends at the run's total.
        assert!(rows.windows(2).all(|w| w[0].fuel <= w[1].fuel));
        assert!(rows.last().unwrap().fuel <= summary.fuel);
    }
}

#[test]
fn memory_rows_rebuild_the_final_memory() {
    let mut total_writes = 0;
    for c in CASES {
        let module = load(c.wasm);
        let (rows, _) = trace_rows(
            c,
            TraceOptions {
                stack: Capture::None,
                locals: Capture::None,
                frames: false,
                filter: Filter::Memory,
                ..TraceOptions::default()
            },
        );
        // The initial image: the memory right after instantiation.
        let mut machine: Machine<Concrete, NoObserver> =
            Machine::new(Concrete, NoObserver, Config::default());
        let mut linker = Linker::new();
        wasi::add_to_linker(&mut machine, &mut linker, wasi_config(c));
        let inst = machine.instantiate(module.clone(), &linker).unwrap();
        let mem_addr = machine.store.instances[inst as usize].memories[0];
        let mut image = {
            let m = &machine.store.memories[mem_addr as usize].mem;
            weft_exec::machine::read_memory(m, 0, LinearMemory::size_bytes(m) as usize).unwrap()
        };
        // The final memory of a plain run.
        let (_, _, final_mem) = plain_run(c, NoObserver);
        let mut writes = 0;
        let mut host = 0;
        for r in &rows {
            for a in r.mem.iter().filter(|a| a.kind == Access::Write) {
                let end = (a.addr + a.width as u64) as usize;
                if image.len() < end {
                    image.resize(end, 0);
                }
                image[a.addr as usize..end]
                    .copy_from_slice(&a.value.to_le_bytes()[..a.width as usize]);
                writes += 1;
            }
            for b in r.bytes.iter().filter(|b| b.kind == Access::Write) {
                let end = b.addr as usize + b.bytes.len();
                if image.len() < end {
                    image.resize(end, 0);
                }
                image[b.addr as usize..end].copy_from_slice(&b.bytes);
                host += (b.source == ByteSource::Host) as u32;
            }
        }
        image.resize(final_mem.len(), 0);
        total_writes += writes;
        if c.invoke.is_none() {
            assert!(host > 0, "{}: WASI wrote memory (iovecs, counts)", c.wasm);
        }
        assert!(image == final_mem, "{}: replayed memory differs", c.wasm);
    }
    assert!(total_writes > 1000, "the runs store: {total_writes}");
}

fn write_trace(path: &Path, header: &Header, rows: &[Row], summary: &Summary, jsonl: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut sink: Box<dyn RowSink> = if jsonl {
        Box::new(JsonlWriter::new(std::io::BufWriter::new(file), header).unwrap())
    } else {
        Box::new(BinaryWriter::new(std::io::BufWriter::new(file), header).unwrap())
    };
    for r in rows {
        sink.row(r).unwrap();
    }
    sink.finish(summary).unwrap();
}

fn read_all(path: &Path) -> (Header, Vec<Row>, Summary) {
    let (header, mut reader) = read_trace(path).unwrap();
    let mut rows = Vec::new();
    while let Some(r) = reader.next_row().unwrap() {
        rows.push(r);
    }
    let summary = reader.summary().cloned().unwrap();
    (header, rows, summary)
}

/// Writes about `cuts` truncations of the trace `bytes` to `path`; reading each must fail
/// with a malformed-trace error.
fn assert_truncations_are_errors(path: &Path, bytes: &[u8], cuts: usize) {
    for cut in (0..bytes.len()).step_by(bytes.len() / cuts + 1) {
        std::fs::write(path, &bytes[..cut]).unwrap();
        let result = read_trace(path).and_then(|(_, mut r)| {
            while r.next_row()?.is_some() {}
            Ok(())
        });
        let err = result.expect_err("truncated trace accepted").to_string();
        assert!(err.contains("malformed trace at"), "{err}");
    }
}

fn verdict(path: &Path, wasm: &str) -> Verdict {
    verify(path, load(wasm), Limits::default()).unwrap()
}

#[test]
fn verify_accepts_real_traces_and_rejects_tampered_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in CASES.iter().enumerate() {
        for jsonl in [false, true] {
            let options = TraceOptions::default();
            let (rows, summary) = trace_rows(c, options);
            let module = load(c.wasm);
            let info = ModuleInfo::new(&module).unwrap();
            let header = Header::new(&info, invocation(c), None, options);
            let path = dir.path().join(format!("t{i}-{jsonl}"));
            write_trace(&path, &header, &rows, &summary, jsonl);
            // Written and read back, rows are unchanged (up to operator immediates in binary).
            let (h2, back, s2) = read_all(&path);
            assert_eq!(h2, header);
            assert_eq!(s2, summary);
            assert_eq!(back.len(), rows.len());
            for (a, b) in back.iter().zip(&rows) {
                assert_eq!(a.first_difference(b, true), None);
            }
            assert_eq!(
                verdict(&path, c.wasm),
                Verdict::Valid {
                    rows: rows.len() as u64,
                    steps: summary.steps
                }
            );

            // A flipped stack value, in a row in the middle.
            let k = rows
                .iter()
                .position(|r| r.step > 500 && !r.stack.is_empty())
                .unwrap();
            let mut bad = rows.clone();
            let top = bad[k].stack.len() - 1;
            bad[k].stack[top].bits ^= 1;
            write_trace(&path, &header, &bad, &summary, jsonl);
            match verdict(&path, c.wasm) {
                Verdict::Invalid { row, reason, .. } => {
                    assert_eq!(row, k as u64, "{reason}");
                    assert!(reason.starts_with("stack"), "{reason}");
                }
                v => panic!("flipped value accepted: {v:?}"),
            }

            // A flipped memory value.
            if let Some(m) = rows.iter().position(|r| !r.mem.is_empty()) {
                let mut bad = rows.clone();
                bad[m].mem[0].value ^= 0x80;
                write_trace(&path, &header, &bad, &summary, jsonl);
                assert!(
                    matches!(verdict(&path, c.wasm), Verdict::Invalid { row, .. } if row == m as u64)
                );
            }

            // A dropped row.
            let mut bad = rows.clone();
            bad.remove(k);
            write_trace(&path, &header, &bad, &summary, jsonl);
            assert!(
                matches!(verdict(&path, c.wasm), Verdict::Invalid { row, .. } if row == k as u64)
            );

            // Two rows swapped (steps renumbered so the file itself is well formed).
            let mut bad = rows.clone();
            bad.swap(k, k + 1);
            bad[k].step = k as u64;
            bad[k + 1].step = k as u64 + 1;
            write_trace(&path, &header, &bad, &summary, jsonl);
            assert!(
                matches!(verdict(&path, c.wasm), Verdict::Invalid { row, .. } if row == k as u64)
            );

            // A forged summary.
            let mut s = summary.clone();
            s.fuel += 1;
            write_trace(&path, &header, &rows, &s, jsonl);
            assert!(matches!(verdict(&path, c.wasm), Verdict::Invalid { .. }));

            // A trace of another module.
            write_trace(&path, &header, &rows, &summary, jsonl);
            let other = CASES[(i + 1) % CASES.len()].wasm;
            assert!(verify(&path, load(other), Limits::default()).is_err());
        }
    }
}

#[test]
fn truncated_and_corrupted_binary_traces_are_clear_errors() {
    let c = &CASES[0];
    let (rows, summary) = trace_rows(c, TraceOptions::default());
    let info = ModuleInfo::new(&load(c.wasm)).unwrap();
    let header = Header::new(&info, invocation(c), None, TraceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    write_trace(&path, &header, &rows, &summary, false);
    let bytes = std::fs::read(&path).unwrap();
    // Every truncation point is an error, never a panic or a silent short read.
    assert_truncations_are_errors(&path, &bytes, 97);
    // Flipped bytes: an error or a trace that verification rejects, never a panic.
    let mut rejected = 0;
    for i in (64..bytes.len()).step_by(bytes.len() / 31 + 1) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        std::fs::write(&path, &b).unwrap();
        match verify(&path, load(c.wasm), Limits::default()) {
            Err(_) | Ok(Verdict::Invalid { .. }) => rejected += 1,
            Ok(Verdict::Valid { .. }) => {}
        }
    }
    assert!(rejected >= 28, "only {rejected} of 31 corruptions caught");
    // The reader takes the stream whole: a well-formed trace reads back.
    let r = BinaryReader::new(std::io::BufReader::new(&bytes[..])).unwrap();
    assert_eq!(r.header(), &header);
}

#[test]
fn windows_and_filters_select_rows() {
    let c = &CASES[1];
    let (all, _) = trace_rows(c, TraceOptions::default());
    let options = TraceOptions {
        from_step: 100,
        to_step: 199,
        stack: Capture::Top(2),
        locals: Capture::Top(1),
        ..TraceOptions::default()
    };
    let (window, summary) = trace_rows(c, options);
    assert_eq!(window.len(), 100);
    assert_eq!(summary.rows, 100);
    assert_eq!(summary.steps, all.len() as u64);
    for (w, a) in window.iter().zip(&all[100..200]) {
        assert_eq!(w.step, a.step);
        assert_eq!(w.offset, a.offset);
        assert_eq!(w.frames, a.frames);
        assert_eq!(w.stack[..], a.stack[a.stack.len() - w.stack.len()..]);
        assert!(w.stack.len() <= 2 && w.locals.len() <= 1);
    }
    let (mem, _) = trace_rows(
        c,
        TraceOptions {
            filter: Filter::Memory,
            ..TraceOptions::default()
        },
    );
    let expected: Vec<u64> = all
        .iter()
        .filter(|r| !r.mem.is_empty() || !r.bytes.is_empty())
        .map(|r| r.step)
        .collect();
    assert_eq!(mem.iter().map(|r| r.step).collect::<Vec<_>>(), expected);
    let (calls, _) = trace_rows(
        c,
        TraceOptions {
            filter: Filter::Calls,
            ..TraceOptions::default()
        },
    );
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|r| r.call.is_some() || r.ret));
    assert_eq!(
        calls.len(),
        all.iter().filter(|r| r.call.is_some() || r.ret).count()
    );

    // A windowed, filtered binary trace still verifies.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.bin");
    let info = ModuleInfo::new(&load(c.wasm)).unwrap();
    let header = Header::new(&info, invocation(c), None, options);
    write_trace(&path, &header, &window, &summary, false);
    assert!(matches!(
        verdict(&path, c.wasm),
        Verdict::Valid { rows: 100, .. }
    ));
}

#[test]
fn tables_hold_every_row_in_csv_and_parquet() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let c = &CASES[0];
    let (rows, summary) = trace_rows(c, TraceOptions::default());
    let info = ModuleInfo::new(&load(c.wasm)).unwrap();
    let header = Header::new(&info, invocation(c), None, TraceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tables");
    let mut sink = weft_trace::tables::TablesWriter::create(&out, &header).unwrap();
    for r in &rows {
        sink.row(r).unwrap();
    }
    sink.finish(&summary).unwrap();
    let mem_rows: usize = rows.iter().map(|r| r.mem.len() + r.bytes.len()).sum();
    let control_rows = rows
        .iter()
        .filter(|r| {
            r.call.is_some()
                || r.ret
                || matches!(
                    r.mnemonic(),
                    "br" | "br_if"
                        | "br_table"
                        | "if"
                        | "else"
                        | "call"
                        | "call_indirect"
                        | "return"
                )
        })
        .count();
    for (name, n) in [
        ("exec", rows.len()),
        ("memory", mem_rows),
        ("control", control_rows),
    ] {
        let csv = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        assert_eq!(csv.lines().count(), n + 1, "{name}.csv");
        let file = std::fs::File::open(out.join(format!("{name}.parquet"))).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        assert_eq!(
            reader.metadata().file_metadata().num_rows() as usize,
            n,
            "{name}.parquet"
        );
    }
    // Control rows point to where execution went next.
    let csv = std::fs::read_to_string(out.join("control.csv")).unwrap();
    let first_call = csv.lines().skip(1).find(|l| l.contains(",call,")).unwrap();
    let f: Vec<&str> = first_call.split(',').collect();
    let step: usize = f[0].parse().unwrap();
    assert_eq!(f[5].parse::<u32>().unwrap(), rows[step + 1].func);
    assert_eq!(f[6].parse::<u32>().unwrap(), rows[step + 1].offset);
    assert!(out.join("header.json").exists() && out.join("summary.json").exists());
}

#[test]
fn stats_count_every_row() {
    let c = &CASES[1];
    let (rows, summary) = trace_rows(c, TraceOptions::default());
    let info = ModuleInfo::new(&load(c.wasm)).unwrap();
    let header = Header::new(&info, invocation(c), None, TraceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    write_trace(&path, &header, &rows, &summary, true);
    let (_, mut reader) = read_trace(&path).unwrap();
    let s = weft_trace::stats::stats(reader.as_mut(), 5).unwrap();
    assert_eq!(s.rows, rows.len() as u64);
    assert_eq!(s.steps, summary.steps);
    assert_eq!(s.mix.iter().map(|m| m.1).sum::<u64>(), s.rows);
    assert_eq!(s.functions.iter().map(|m| m.1).sum::<u64>(), s.rows);
    assert_eq!(s.offsets.len(), 5);
    let stores = rows
        .iter()
        .flat_map(|r| &r.mem)
        .filter(|a| a.kind == Access::Write)
        .count();
    assert!(s.memory.writes >= stores as u64);
    assert!(s.memory.distinct_bytes > 0 && s.memory.pages > 0);
}

/// Records a witness trace of `c` with `options` to `path`.
fn write_witness(path: &Path, c: &Case, options: TraceOptions, fuel: Option<u64>) -> Summary {
    let module = load(c.wasm);
    let info = ModuleInfo::new(&module).unwrap();
    let header = Header::new(&info, invocation(c), fuel, options);
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let (recorded, _) =
        weft_trace::witness::record(module, &header, Limits::default(), file, false).unwrap();
    recorded.summary
}

/// Where the first value chunk's bytes start in a witness trace, and its length.
fn first_chunk(bytes: &[u8]) -> (usize, usize) {
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let header_end = 16 + word(12);
    let module_len =
        u64::from_le_bytes(bytes[header_end + 20..header_end + 28].try_into().unwrap());
    let chunk = header_end + 28 + module_len as usize;
    (chunk + 4, word(chunk))
}

#[test]
fn witness_traces_rebuild_the_rows_of_the_row_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wit");
    let lean = TraceOptions {
        stack: Capture::Top(1),
        locals: Capture::None,
        frames: false,
        ..TraceOptions::default()
    };
    let window = TraceOptions {
        from_step: 50,
        to_step: 900,
        filter: Filter::Memory,
        stack: Capture::Top(3),
        locals: Capture::Top(2),
        ..TraceOptions::default()
    };
    for c in CASES {
        for options in [TraceOptions::default(), lean, window] {
            let (rows, summary) = trace_rows(c, options);
            let recorded = write_witness(&path, c, options, None);
            assert_eq!(recorded.termination, summary.termination);
            assert_eq!(recorded.fuel, summary.fuel, "{}: fast-mode fuel", c.wasm);
            let (header, back, rebuilt) = read_all(&path);
            assert_eq!(header.options, options);
            assert_eq!(rebuilt, summary, "{}", c.wasm);
            assert_eq!(back.len(), rows.len(), "{}", c.wasm);
            for (i, (a, b)) in back.iter().zip(&rows).enumerate() {
                assert_eq!(a.op, b.mnemonic(), "{} row {i}", c.wasm);
                let mut b = b.clone();
                b.op = a.op.clone();
                b.frames_unchanged = false;
                assert_eq!(a, &b, "{} row {i}", c.wasm);
            }
        }
    }
}

#[test]
fn witness_traces_of_fuel_limited_runs_end_where_the_run_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wit");
    let c = &CASES[2];
    let options = TraceOptions::default();
    for limit in [1, 500, 5_000] {
        let (rows, summary) = trace_rows_with_fuel(c, options, Some(limit));
        assert!(summary.termination.contains("fuel"), "{limit}");
        write_witness(&path, c, options, Some(limit));
        let (_, back, rebuilt) = read_all(&path);
        assert_eq!(rebuilt, summary, "limit {limit}");
        assert_eq!(back.len(), rows.len(), "limit {limit}");
    }
}

#[test]
fn verify_accepts_witness_traces_and_rejects_altered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wit");
    for c in CASES {
        let summary = write_witness(&path, c, TraceOptions::default(), None);
        let rows = match verdict(&path, c.wasm) {
            Verdict::Valid { rows, steps } => {
                assert_eq!(rows, steps);
                rows
            }
            v => panic!("{}: real witness trace rejected: {v:?}", c.wasm),
        };
        assert!(rows > 100, "{}", c.wasm);
        let bytes = std::fs::read(&path).unwrap();
        let (values, len) = first_chunk(&bytes);
        assert!(len >= 16, "{}: {len} value bytes", c.wasm);

        // Any flipped bit of a value: the rows that follow from it are not the run's.
        for at in [values, values + len / 2, values + len - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            std::fs::write(&path, &bad).unwrap();
            match verify(&path, load(c.wasm), Limits::default()) {
                Ok(Verdict::Invalid { row, reason, .. }) => {
                    assert!(row < rows, "{reason}");
                }
                Err(e) => panic!("{}: flipped value read as an error: {e}", c.wasm),
                Ok(v) => panic!("{}: flipped value at byte {at} accepted: {v:?}", c.wasm),
            }
        }

        // A dropped value (the chunk's length adjusted so the file stays well formed).
        let mut bad = bytes.clone();
        bad.drain(values + 4..values + 8);
        let fixed = (len as u32 - 4).to_le_bytes();
        bad[values - 4..values].copy_from_slice(&fixed);
        std::fs::write(&path, &bad).unwrap();
        assert!(
            !matches!(
                verify(&path, load(c.wasm), Limits::default()),
                Ok(Verdict::Valid { .. })
            ),
            "{}: dropped value accepted",
            c.wasm
        );

        // Every truncation point is a clear error, never a panic or a hang.
        assert_truncations_are_errors(&path, &bytes, 23);

        // A trace of another module.
        std::fs::write(&path, &bytes).unwrap();
        let other = CASES.iter().find(|o| o.wasm != c.wasm).unwrap().wasm;
        assert!(verify(&path, load(other), Limits::default()).is_err());
        assert_eq!(summary.steps, 0, "steps are counted on reading");
    }
}

#[test]
fn dropping_a_witness_reader_early_stops_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wit");
    let c = &CASES[2];
    write_witness(&path, c, TraceOptions::default(), None);
    let (_, mut reader) = read_trace(&path).unwrap();
    assert!(reader.next_row().unwrap().is_some());
    // Dropping joins the rebuilding thread; a hang here fails the test by timeout.
    drop(reader);
}
