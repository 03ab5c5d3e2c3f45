//! WASI preview 1: the committed C fixtures (`fixtures/`) against their native outputs, and
//! small hand-written modules for sandboxing, determinism and exit codes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use weft_exec::wasi::{
    add_to_linker, function_names, run_command, DirAccess, InputSource, RunOutcome, Termination,
    WasiConfig,
};
use weft_exec::{Concrete, Config, Linker, Machine, NoObserver};
use weft_ir::Module;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("weft-wasi-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn load(path: &Path) -> Arc<Module> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Arc::new(Module::new(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn wat_module(text: &str) -> Arc<Module> {
    let bytes = wat::parse_str(text).expect("valid wat");
    Arc::new(Module::new(&bytes).expect("valid module"))
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Case {
    name: String,
    args: Vec<String>,
    stdin: Option<String>,
    env: Option<(String, String)>,
    preopen: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("expected/cases.tsv")).unwrap();
    let opt = |s: &str| if s == "-" { None } else { Some(s.to_string()) };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "bad cases.tsv line {l:?}");
            Case {
                name: f[0].to_string(),
                args: opt(f[1]).map_or(Vec::new(), |a| a.split(' ').map(String::from).collect()),
                stdin: opt(f[2]),
                env: opt(f[3]).map(|kv| {
                    let (k, v) = kv.split_once('=').expect("K=V");
                    (k.to_string(), v.to_string())
                }),
                preopen: opt(f[4]),
            }
        })
        .collect()
}

fn run_case(case: &Case) -> Result<(), String> {
    let fx = fixtures();
    let module = load(&fx.join(format!("wasm/{}.wasm", case.name)));
    let mut config = WasiConfig::new()
        .arg(format!("{}.wasm", case.name))
        .args(case.args.clone());
    if let Some(f) = &case.stdin {
        config = config.stdin(InputSource::Bytes(std::fs::read(fx.join(f)).unwrap()));
    }
    if let Some((k, v)) = &case.env {
        config = config.env(k, v);
    }
    let scratch = TempDir::new(&case.name);
    if let Some(dir) = &case.preopen {
        copy_dir(&fx.join(dir), scratch.path());
        config = config.preopen(".", scratch.path(), DirAccess::ReadWrite);
    }
    let out = run_command(
        module,
        config,
        Config {
            fuel: true,
            ..Config::default()
        },
    )
    .map_err(|e| format!("{}: cannot run: {e}", case.name))?;
    let exp = |ext: &str| std::fs::read(fx.join(format!("expected/{}.{ext}", case.name))).unwrap();
    let exit: i32 = show(&exp("exit")).trim().parse().unwrap();
    let mut problems = Vec::new();
    if out.termination != Termination::Exited(exit) {
        problems.push(format!(
            "termination {:?}, expected exit {exit}",
            out.termination
        ));
    }
    if out.stdout != exp("stdout") {
        problems.push(format!(
            "stdout differs:\n--- got ---\n{}\n--- expected ---\n{}",
            show(&out.stdout),
            show(&exp("stdout"))
        ));
    }
    if out.stderr != exp("stderr") {
        problems.push(format!(
            "stderr differs:\n--- got ---\n{}\n--- expected ---\n{}",
            show(&out.stderr),
            show(&exp("stderr"))
        ));
    }
    if out.fuel_consumed == 0 {
        problems.push("no fuel consumed".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", case.name, problems.join("\n")))
    }
}

fn fixture(name: &str) {
    let all = cases();
    let case = all
        .iter()
        .find(|c| c.name == name)
        .expect("case in cases.tsv");
    if let Err(e) = run_case(case) {
        panic!("{e}");
    }
}

#[test]
fn cases_cover_every_program() {
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    let mut wasm: Vec<String> = std::fs::read_dir(fixtures().join("wasm"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "wasm").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    wasm.sort();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, wasm, "cases.tsv and fixtures/wasm disagree");
}

#[test]
fn fixture_sha256() {
    fixture("sha256");
}

#[test]
fn fixture_sort() {
    fixture("sort");
}

#[test]
fn fixture_float() {
    fixture("float");
}

#[test]
fn fixture_recursion() {
    fixture("recursion");
}

#[test]
fn fixture_wasi_io() {
    fixture("wasi_io");
}

#[test]
fn fixture_files() {
    fixture("files");
}

// ---------------------------------------------------------------- hand-written modules

const PRELUDE: &str = r#"
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_rename"
    (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
"#;

fn module_with(body: &str, data: &str) -> Arc<Module> {
    wat_module(&format!(
        "(module {PRELUDE} {data} (func (export \"_start\") {body}))"
    ))
}

fn run(module: Arc<Module>, config: WasiConfig) -> RunOutcome {
    run_command(module, config, Config::default()).expect("runs")
}

/// Exit status of a module that calls `path_open(3, follow, path, oflags, rights)` and exits
/// with the errno.
fn open_errno(path: &str, oflags: u32, rights: u64, config: WasiConfig) -> i32 {
    let escaped: String = path.bytes().map(|b| format!("\\{b:02x}")).collect();
    let module = module_with(
        &format!(
            "(call $proc_exit (call $path_open (i32.const 3) (i32.const 1) (i32.const 100)
               (i32.const {}) (i32.const {oflags}) (i64.const {}) (i64.const {})
               (i32.const 0) (i32.const 0)))",
            path.len(),
            rights as i64,
            rights as i64,
        ),
        &format!("(data (i32.const 100) \"{escaped}\")"),
    );
    match run(module, config).termination {
        Termination::Exited(c) => c,
        t => panic!("{t:?}"),
    }
}

const FD_READ: u64 = 1 << 1;
const FD_WRITE: u64 = 1 << 6;
const O_CREAT: u32 = 1;
const ENOENT: i32 = 44;
const ENOTCAPABLE: i32 = 76;
const EFAULT: i32 = 21;

#[test]
fn paths_escaping_the_preopen_are_refused() {
    let outer = TempDir::new("escape");
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("inside.txt"), "in").unwrap();
    std::fs::write(outer.path().join("secret.txt"), "out").unwrap();
    let cfg = || WasiConfig::new().preopen(".", &root, DirAccess::ReadWrite);

    assert_eq!(open_errno("inside.txt", 0, FD_READ, cfg()), 0);
    assert_eq!(open_errno("./sub/../inside.txt", 0, FD_READ, cfg()), 0);
    assert_eq!(open_errno("missing.txt", 0, FD_READ, cfg()), ENOENT);
    assert_eq!(open_errno("../secret.txt", 0, FD_READ, cfg()), ENOTCAPABLE);
    assert_eq!(
        open_errno("sub/../../secret.txt", 0, FD_READ, cfg()),
        ENOTCAPABLE
    );
    assert_eq!(open_errno("..", 0, FD_READ, cfg()), ENOTCAPABLE);
    let abs = outer.path().join("secret.txt");
    assert_eq!(
        open_errno(abs.to_str().unwrap(), 0, FD_READ, cfg()),
        ENOTCAPABLE
    );
    assert_eq!(open_errno("/etc/passwd", 0, FD_READ, cfg()), ENOTCAPABLE);
    // Creating outside is refused too, and leaves nothing behind.
    assert_eq!(
        open_errno("../created.txt", O_CREAT, FD_WRITE, cfg()),
        ENOTCAPABLE
    );
    assert!(!outer.path().join("created.txt").exists());

    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("../secret.txt", root.join("up")).unwrap();
        symlink(&abs, root.join("abs")).unwrap();
        symlink("inside.txt", root.join("good")).unwrap();
        symlink("..", root.join("sub/parent")).unwrap();
        symlink("../..", root.join("sub/grandparent")).unwrap();
        assert_eq!(open_errno("good", 0, FD_READ, cfg()), 0);
        assert_eq!(open_errno("sub/parent/inside.txt", 0, FD_READ, cfg()), 0);
        assert_eq!(open_errno("up", 0, FD_READ, cfg()), ENOTCAPABLE);
        assert_eq!(open_errno("abs", 0, FD_READ, cfg()), ENOTCAPABLE);
        assert_eq!(
            open_errno("sub/grandparent/secret.txt", 0, FD_READ, cfg()),
            ENOTCAPABLE
        );
        // Writing through a link that leaves the sandbox is refused as well.
        assert_eq!(open_errno("up", O_CREAT, FD_WRITE, cfg()), ENOTCAPABLE);
        assert_eq!(std::fs::read_to_string(&abs).unwrap(), "out");
    }
}

/// A directory descriptor whose directory is later replaced by a symbolic link (renamed into
/// place by the guest) must not lead out of the sandbox.
#[cfg(unix)]
#[test]
fn directory_replaced_by_a_link_is_refused() {
    let outer = TempDir::new("swap");
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(outer.path().join("secret.txt"), "out").unwrap();
    std::os::unix::fs::symlink(outer.path(), root.join("evil")).unwrap();
    // Each step exits with 1000 + errno on failure; the last exits with its errno.
    let step = |call: &str| {
        format!(
            "(local.set $e {call}) (if (local.get $e) (then \
             (call $proc_exit (i32.add (i32.const 1000) (local.get $e)))))"
        )
    };
    let body = format!(
        "(local $e i32)
         {}
         {}
         {}
         (call $proc_exit (call $path_open (i32.load (i32.const 0)) (i32.const 1)
           (i32.const 130) (i32.const 10) (i32.const 0) (i64.const 2) (i64.const 2)
           (i32.const 0) (i32.const 4)))",
        step(
            "(call $path_open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 3) \
             (i32.const 2) (i64.const 0x2002) (i64.const 0x2002) (i32.const 0) (i32.const 0))"
        ),
        step(
            "(call $path_rename (i32.const 3) (i32.const 100) (i32.const 3) \
             (i32.const 3) (i32.const 110) (i32.const 7))"
        ),
        step(
            "(call $path_rename (i32.const 3) (i32.const 120) (i32.const 4) \
             (i32.const 3) (i32.const 100) (i32.const 3))"
        ),
    );
    let data = r#"(data (i32.const 100) "sub") (data (i32.const 110) "sub_old")
                  (data (i32.const 120) "evil") (data (i32.const 130) "secret.txt")"#;
    let cfg = WasiConfig::new().preopen(".", &root, DirAccess::ReadWrite);
    let out = run(module_with(&body, data), cfg);
    assert_eq!(out.termination, Termination::Exited(ENOTCAPABLE));
    assert!(std::fs::symlink_metadata(root.join("sub"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn read_only_preopen_refuses_writes() {
    let dir = TempDir::new("ro");
    std::fs::write(dir.path().join("f.txt"), "data").unwrap();
    let cfg = || WasiConfig::new().preopen(".", dir.path(), DirAccess::ReadOnly);
    assert_eq!(open_errno("f.txt", 0, FD_READ, cfg()), 0);
    assert_eq!(open_errno("f.txt", 0, FD_WRITE, cfg()), ENOTCAPABLE);
    assert_eq!(open_errno("new.txt", O_CREAT, FD_WRITE, cfg()), ENOTCAPABLE);
    assert_eq!(open_errno("new.txt", O_CREAT, FD_READ, cfg()), ENOTCAPABLE);
    assert!(!dir.path().join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f.txt")).unwrap(),
        "data"
    );
}

/// A module that writes `n` random bytes to stdout.
fn random_module(n: u32) -> Arc<Module> {
    module_with(
        &format!(
            "(drop (call $random_get (i32.const 1024) (i32.const {n})))
             (i32.store (i32.const 0) (i32.const 1024))
             (i32.store (i32.const 4) (i32.const {n}))
             (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
        ),
        "",
    )
}

#[test]
fn random_get_is_deterministic_for_a_seed() {
    let a = run(random_module(100), WasiConfig::new().random_seed(7));
    let b = run(random_module(100), WasiConfig::new().random_seed(7));
    let c = run(random_module(100), WasiConfig::new().random_seed(8));
    assert_eq!(a.termination, Termination::Exited(0));
    assert_eq!(a.stdout.len(), 100);
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    // The default is seeded too.
    let d = run(random_module(100), WasiConfig::new());
    let e = run(random_module(100), WasiConfig::new());
    assert_eq!(d.stdout, e.stdout);
    // Large requests move in chunks and stay deterministic.
    let big1 = run(random_module(60_000), WasiConfig::new().random_seed(1));
    let big2 = run(random_module(60_000), WasiConfig::new().random_seed(1));
    assert_eq!(big1.stdout.len(), 60_000);
    assert_eq!(big1.stdout, big2.stdout);
    assert_eq!(
        big1.stdout[..100],
        run(random_module(100), WasiConfig::new().random_seed(1)).stdout
    );
}

#[test]
fn proc_exit_code_is_returned() {
    for code in [0, 1, 42, 255] {
        let m = module_with(
            &format!("(call $proc_exit (i32.const {code})) unreachable"),
            "",
        );
        let out = run(m, WasiConfig::new());
        assert_eq!(out.termination, Termination::Exited(code));
        assert_eq!(out.exit_code(), Some(code));
    }
    // Returning from _start is exit 0; a trap is reported as such.
    assert_eq!(
        run(module_with("", ""), WasiConfig::new()).exit_code(),
        Some(0)
    );
    let trapped = run(module_with("unreachable", ""), WasiConfig::new());
    assert!(trapped.trap().is_some(), "{:?}", trapped.termination);
}

#[test]
fn bad_guest_pointers_are_efault() {
    // random_get past the end of memory, an iovec pointing past the end, an out pointer
    // past the end, and a length that wraps.
    let bodies = [
        "(call $proc_exit (call $random_get (i32.const 65530) (i32.const 16)))",
        "(i32.store (i32.const 0) (i32.const 65000))
         (i32.store (i32.const 4) (i32.const 1000))
         (call $proc_exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))",
        "(call $proc_exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const -1)))",
        "(call $proc_exit (call $random_get (i32.const 16) (i32.const -1)))",
        "(call $proc_exit (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65533)))",
    ];
    for body in bodies {
        let out = run(module_with(body, ""), WasiConfig::new());
        assert_eq!(out.termination, Termination::Exited(EFAULT), "{body}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn deterministic_clock_advances_by_its_step() {
    let m = module_with(
        "(drop (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 0)))
         (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 8)))
         (i32.store (i32.const 16) (i32.const 0))
         (i32.store (i32.const 20) (i32.const 16))
         (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))",
        "",
    );
    let out = run(m, WasiConfig::new().deterministic_clock(1_000_000_000, 250));
    let t0 = u64::from_le_bytes(out.stdout[0..8].try_into().unwrap());
    let t1 = u64::from_le_bytes(out.stdout[8..16].try_into().unwrap());
    assert_eq!((t0, t1), (1_000_000_000, 1_000_000_250));
}

/// Every preview-1 function, with its signature from `wasi_snapshot_preview1.witx`.
const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "(param i32 i32) (result i32)"),
    ("args_sizes_get", "(param i32 i32) (result i32)"),
    ("environ_get", "(param i32 i32) (result i32)"),
    ("environ_sizes_get", "(param i32 i32) (result i32)"),
    ("clock_res_get", "(param i32 i32) (result i32)"),
    ("clock_time_get", "(param i32 i64 i32) (result i32)"),
    ("fd_advise", "(param i32 i64 i64 i32) (result i32)"),
    ("fd_allocate", "(param i32 i64 i64) (result i32)"),
    ("fd_close", "(param i32) (result i32)"),
    ("fd_datasync", "(param i32) (result i32)"),
    ("fd_fdstat_get", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_flags", "(param i32 i32) (result i32)"),
    ("fd_fdstat_set_rights", "(param i32 i64 i64) (result i32)"),
    ("fd_filestat_get", "(param i32 i32) (result i32)"),
    ("fd_filestat_set_size", "(param i32 i64) (result i32)"),
    (
        "fd_filestat_set_times",
        "(param i32 i64 i64 i32) (result i32)",
    ),
    ("fd_pread", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_prestat_get", "(param i32 i32) (result i32)"),
    ("fd_prestat_dir_name", "(param i32 i32 i32) (result i32)"),
    ("fd_pwrite", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_read", "(param i32 i32 i32 i32) (result i32)"),
    ("fd_readdir", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_renumber", "(param i32 i32) (result i32)"),
    ("fd_seek", "(param i32 i64 i32 i32) (result i32)"),
    ("fd_sync", "(param i32) (result i32)"),
    ("fd_tell", "(param i32 i32) (result i32)"),
    ("fd_write", "(param i32 i32 i32 i32) (result i32)"),
    ("path_create_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_filestat_get",
        "(param i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_filestat_set_times",
        "(param i32 i32 i32 i32 i64 i64 i32) (result i32)",
    ),
    (
        "path_link",
        "(param i32 i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    (
        "path_open",
        "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)",
    ),
    (
        "path_readlink",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_remove_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_rename",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_symlink", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("path_unlink_file", "(param i32 i32 i32) (result i32)"),
    ("poll_oneoff", "(param i32 i32 i32 i32) (result i32)"),
    ("proc_exit", "(param i32)"),
    ("proc_raise", "(param i32) (result i32)"),
    ("sched_yield", "(result i32)"),
    ("random_get", "(param i32 i32) (result i32)"),
    ("sock_accept", "(param i32 i32 i32) (result i32)"),
    ("sock_recv", "(param i32 i32 i32 i32 i32 i32) (result i32)"),
    ("sock_send", "(param i32 i32 i32 i32 i32) (result i32)"),
    ("sock_shutdown", "(param i32 i32) (result i32)"),
];

#[test]
fn every_function_links_with_its_exact_signature() {
    let mut names: Vec<&str> = function_names().collect();
    names.sort();
    let mut expected: Vec<&str> = SIGNATURES.iter().map(|s| s.0).collect();
    expected.sort();
    assert_eq!(names, expected);
    let imports: String = SIGNATURES
        .iter()
        .map(|(n, sig)| format!("(import \"wasi_snapshot_preview1\" \"{n}\" (func {sig}))\n"))
        .collect();
    let module = wat_module(&format!(
        "(module {imports} (memory (export \"memory\") 1) (func (export \"_start\")))"
    ));
    let mut machine: Machine<Concrete, NoObserver> =
        Machine::new(Concrete, NoObserver, Config::default());
    let mut linker = Linker::new();
    let _state = add_to_linker(&mut machine, &mut linker, WasiConfig::new());
    let instance = machine.instantiate(module, &linker).expect("links");
    machine.invoke(instance, "_start", &[]).expect("runs");
}

#[test]
fn missing_preopen_is_reported() {
    let m = module_with("", "");
    let cfg = WasiConfig::new().preopen(".", "/nonexistent/weft/dir", DirAccess::ReadOnly);
    assert!(run_command(m, cfg, Config::default()).is_err());
}

/// Counts the steps and calls it sees.
#[derive(Default)]
struct Counter {
    steps: u64,
    calls: u64,
}

impl weft_exec::Observer<Concrete> for Counter {
    fn before_step(&mut self, _view: &weft_exec::StepView<'_, Concrete>) {
        self.steps += 1;
    }
    fn on_call(&mut self, _instance: u32, _func: u32) {
        self.calls += 1;
    }
}

/// The generic runner on an observed (exact-mode) machine gives the same output and fuel as
/// the fast path.
#[test]
fn observed_run_matches_fast_run() {
    let module = load(&fixtures().join("wasm/sha256.wasm"));
    let cfg = || WasiConfig::new().arg("sha256").arg("100");
    let fast = run_command(
        module.clone(),
        cfg(),
        Config {
            fuel: true,
            ..Config::default()
        },
    )
    .expect("runs");
    let mut machine = Machine::new(
        Concrete,
        Counter::default(),
        Config {
            fuel: true,
            ..Config::default()
        },
    );
    let observed = weft_exec::wasi::run_command_in(&mut machine, &mut Linker::new(), module, cfg())
        .expect("runs");
    assert_eq!(observed.termination, Termination::Exited(0));
    assert_eq!(observed.stdout, fast.stdout);
    assert!(!fast.stdout.is_empty());
    assert_eq!(observed.fuel_consumed, fast.fuel_consumed);
    assert!(machine.observer.steps > 0 && machine.observer.calls > 0);
}
