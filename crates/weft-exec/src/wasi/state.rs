//! The state behind the WASI functions: descriptors, streams, clocks, random stream.

use super::abi::{fdflags, filetype, rights, Errno};
use super::{ClockMode, DirAccess, InputSource, OutputSink, RandomSource, WResult, WasiConfig};
use super::{Error, WasiLimits};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a descriptor refers to.
pub(crate) enum FdKind {
    Stdin,
    Stdout,
    Stderr,
    File(File),
    Dir(DirFd),
}

/// An open directory: a preopen, or a directory beneath one.
#[derive(Clone, Debug)]
pub(crate) struct DirFd {
    /// The preopen's host directory (canonical).
    pub(crate) root: PathBuf,
    /// Components from the preopen to this directory, none a symbolic link when opened.
    pub(crate) rel: Vec<String>,
    /// The guest name, for preopens.
    pub(crate) preopen: Option<String>,
}

impl DirFd {
    /// The host path of the directory, after checking that no component below the preopen
    /// has since been replaced by a symbolic link (the guest may rename one into place), so
    /// the host never follows one out of the sandbox.
    pub(crate) fn checked_host(&self) -> WResult<PathBuf> {
        let mut p = self.root.clone();
        for c in &self.rel {
            p.push(c);
            let md = std::fs::symlink_metadata(&p)?;
            if md.file_type().is_symlink() {
                return Err(Errno::NOTCAPABLE.into());
            }
            if !md.is_dir() {
                return Err(Errno::NOTDIR.into());
            }
        }
        Ok(p)
    }
}

/// An open descriptor.
pub(crate) struct FdEntry {
    pub(crate) kind: FdKind,
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
    pub(crate) flags: u16,
}

/// A captured, inherited or discarded output stream.
#[derive(Clone)]
struct Output {
    sink: OutputSink,
    buf: Vec<u8>,
}

#[derive(Clone)]
enum Clock {
    Real { start: Instant },
    Virtual { now: u64, step: u64 },
}

/// The state of one WASI guest: descriptors, standard streams, clocks, random stream and
/// the exit code. Shared by the host functions through an `Arc<Mutex<_>>`.
pub struct WasiState {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) fds: BTreeMap<u32, FdEntry>,
    pub(crate) limits: WasiLimits,
    pub(crate) allow_sleep: bool,
    stdin: InputSource,
    stdin_pos: usize,
    stdout: Output,
    stderr: Output,
    rng: ChaCha20Rng,
    clock: Clock,
    pub(crate) exit_code: Option<i32>,
}

impl std::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiState")
            .field("open_fds", &self.fds.keys().collect::<Vec<_>>())
            .field("stdout_bytes", &self.stdout.buf.len())
            .field("stderr_bytes", &self.stderr.buf.len())
            .field("exit_code", &self.exit_code)
            .finish_non_exhaustive()
    }
}

impl WasiState {
    /// An independent copy (for a path of symbolic execution that forks), or `None` while
    /// a host file is open: its position could not be copied.
    pub fn fork(&self) -> Option<WasiState> {
        let mut fds = BTreeMap::new();
        for (&fd, e) in &self.fds {
            let kind = match &e.kind {
                FdKind::Stdin => FdKind::Stdin,
                FdKind::Stdout => FdKind::Stdout,
                FdKind::Stderr => FdKind::Stderr,
                FdKind::Dir(d) => FdKind::Dir(d.clone()),
                FdKind::File(_) => return None,
            };
            fds.insert(
                fd,
                FdEntry {
                    kind,
                    base: e.base,
                    inheriting: e.inheriting,
                    flags: e.flags,
                },
            );
        }
        Some(WasiState {
            args: self.args.clone(),
            env: self.env.clone(),
            fds,
            limits: self.limits.clone(),
            allow_sleep: self.allow_sleep,
            stdin: self.stdin.clone(),
            stdin_pos: self.stdin_pos,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            rng: self.rng.clone(),
            clock: self.clock.clone(),
            exit_code: self.exit_code,
        })
    }

    /// A fresh state: descriptors 0-2 are the standard streams, 3... the preopens.
    pub fn new(config: WasiConfig) -> Self {
        let mut fds = BTreeMap::new();
        fds.insert(
            0,
            FdEntry {
                kind: FdKind::Stdin,
                base: rights::STDIN,
                inheriting: 0,
                flags: 0,
            },
        );
        fds.insert(
            1,
            FdEntry {
                kind: FdKind::Stdout,
                base: rights::STDOUT,
                inheriting: 0,
                flags: 0,
            },
        );
        fds.insert(
            2,
            FdEntry {
                kind: FdKind::Stderr,
                base: rights::STDOUT,
                inheriting: 0,
                flags: 0,
            },
        );
        for (i, p) in config.preopens.iter().enumerate() {
            let host = std::fs::canonicalize(&p.host_path).unwrap_or_else(|_| p.host_path.clone());
            let (base, inheriting) = match p.access {
                DirAccess::ReadWrite => (rights::DIR, rights::DIR | rights::FILE),
                DirAccess::ReadOnly => (
                    rights::DIR & !rights::DIR_MUTATING,
                    (rights::DIR | rights::FILE) & !(rights::DIR_MUTATING | rights::FILE_MUTATING),
                ),
            };
            fds.insert(
                3 + i as u32,
                FdEntry {
                    kind: FdKind::Dir(DirFd {
                        root: host,
                        rel: Vec::new(),
                        preopen: Some(p.guest_path.clone()),
                    }),
                    base,
                    inheriting,
                    flags: 0,
                },
            );
        }
        let rng = match config.random {
            RandomSource::Seeded(seed) => ChaCha20Rng::seed_from_u64(seed),
            RandomSource::Entropy => ChaCha20Rng::from_entropy(),
        };
        let clock = match config.clock {
            ClockMode::Real => Clock::Real {
                start: Instant::now(),
            },
            ClockMode::Deterministic { start_ns, step_ns } => Clock::Virtual {
                now: start_ns,
                step: step_ns,
            },
        };
        let kv = |(k, v): &(String, String)| format!("{k}={v}").into_bytes();
        WasiState {
            args: config.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: config.env.iter().map(kv).collect(),
            fds,
            limits: config.limits,
            allow_sleep: config.allow_sleep,
            stdin: config.stdin,
            stdin_pos: 0,
            stdout: Output {
                sink: config.stdout,
                buf: Vec::new(),
            },
            stderr: Output {
                sink: config.stderr,
                buf: Vec::new(),
            },
            rng,
            clock,
            exit_code: None,
        }
    }

    /// The captured standard output so far (empty unless captured).
    pub fn stdout(&self) -> &[u8] {
        &self.stdout.buf
    }

    /// The captured standard error so far (empty unless captured).
    pub fn stderr(&self) -> &[u8] {
        &self.stderr.buf
    }

    /// Takes the captured standard output, leaving the buffer empty.
    pub fn take_stdout(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.stdout.buf)
    }

    /// Takes the captured standard error, leaving the buffer empty.
    pub fn take_stderr(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.stderr.buf)
    }

    /// The code the guest passed to `proc_exit`, if it called it.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// Number of open descriptors.
    pub fn open_fds(&self) -> usize {
        self.fds.len()
    }

    // ---- descriptors ----

    pub(crate) fn entry(&self, fd: u32) -> WResult<&FdEntry> {
        self.fds.get(&fd).ok_or(Error::Errno(Errno::BADF))
    }

    pub(crate) fn entry_mut(&mut self, fd: u32) -> WResult<&mut FdEntry> {
        self.fds.get_mut(&fd).ok_or(Error::Errno(Errno::BADF))
    }

    /// The entry of `fd` if it holds every right in `needed`.
    pub(crate) fn with_rights(&mut self, fd: u32, needed: u64) -> WResult<&mut FdEntry> {
        let e = self.entry_mut(fd)?;
        if e.base & needed != needed {
            return Err(Errno::NOTCAPABLE.into());
        }
        Ok(e)
    }

    /// The directory `fd` if it holds every right in `needed`: its (checked) host path and
    /// its inheritable rights.
    pub(crate) fn dir(&self, fd: u32, needed: u64) -> WResult<(PathBuf, u64)> {
        let e = self.entry(fd)?;
        let FdKind::Dir(d) = &e.kind else {
            return Err(Errno::NOTDIR.into());
        };
        if e.base & needed != needed {
            return Err(Errno::NOTCAPABLE.into());
        }
        Ok((d.checked_host()?, e.inheriting))
    }

    /// Inserts at the lowest free descriptor.
    pub(crate) fn insert(&mut self, entry: FdEntry) -> WResult<u32> {
        if self.fds.len() >= self.limits.max_open_fds as usize {
            return Err(Errno::MFILE.into());
        }
        let mut fd = 0u32;
        for &k in self.fds.keys() {
            if k != fd {
                break;
            }
            fd += 1;
        }
        self.fds.insert(fd, entry);
        Ok(fd)
    }

    /// Whether a standard stream's descriptor behaves as a terminal.
    pub(crate) fn stream_filetype(&self, kind: &FdKind) -> u8 {
        let tty = match kind {
            FdKind::Stdin => self.stdin == InputSource::Inherit && std::io::stdin().is_terminal(),
            FdKind::Stdout => {
                self.stdout.sink == OutputSink::Inherit && std::io::stdout().is_terminal()
            }
            FdKind::Stderr => {
                self.stderr.sink == OutputSink::Inherit && std::io::stderr().is_terminal()
            }
            _ => false,
        };
        if tty {
            filetype::CHARACTER_DEVICE
        } else {
            filetype::UNKNOWN
        }
    }

    // ---- streams ----

    /// Reads from standard input into `buf`; 0 at end of input.
    pub(crate) fn read_stdin(&mut self, buf: &mut [u8]) -> WResult<usize> {
        match &self.stdin {
            InputSource::Empty => Ok(0),
            InputSource::Bytes(b) => {
                let rest = &b[self.stdin_pos.min(b.len())..];
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.stdin_pos += n;
                Ok(n)
            }
            InputSource::Inherit => loop {
                match std::io::stdin().lock().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            },
        }
    }

    /// Bytes of standard input known to be available without blocking.
    pub(crate) fn stdin_available(&self) -> u64 {
        match &self.stdin {
            InputSource::Bytes(b) => b.len().saturating_sub(self.stdin_pos) as u64,
            _ => 0,
        }
    }

    /// Writes to standard output (`err == false`) or error; returns the bytes taken.
    pub(crate) fn write_stream(&mut self, err: bool, data: &[u8]) -> WResult<usize> {
        let max = self.limits.max_captured_bytes;
        let out = if err {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        match out.sink {
            OutputSink::Discard => Ok(data.len()),
            OutputSink::Capture => {
                let room = max.saturating_sub(out.buf.len());
                if room == 0 && !data.is_empty() {
                    return Err(Errno::NOSPC.into());
                }
                let n = room.min(data.len());
                out.buf.extend_from_slice(&data[..n]);
                Ok(n)
            }
            OutputSink::Inherit => {
                let r = if err {
                    let mut s = std::io::stderr().lock();
                    s.write_all(data).and_then(|_| s.flush())
                } else {
                    let mut s = std::io::stdout().lock();
                    s.write_all(data).and_then(|_| s.flush())
                };
                r.map_err(|e| match e.kind() {
                    std::io::ErrorKind::BrokenPipe => Error::Errno(Errno::PIPE),
                    _ => Error::from(e),
                })?;
                Ok(data.len())
            }
        }
    }

    /// Flushes an inherited output stream.
    pub(crate) fn flush_stream(&mut self, err: bool) {
        let out = if err { &self.stderr } else { &self.stdout };
        if out.sink == OutputSink::Inherit {
            let _ = if err {
                std::io::stderr().flush()
            } else {
                std::io::stdout().flush()
            };
        }
    }

    // ---- random ----

    pub(crate) fn fill_random(&mut self, buf: &mut [u8]) {
        self.rng.fill_bytes(buf);
    }

    // ---- clocks ----

    /// The resolution of a clock, in nanoseconds.
    pub(crate) fn clock_res(&self, id: u32) -> WResult<u64> {
        if id > super::abi::clockid::THREAD_CPUTIME {
            return Err(Errno::INVAL.into());
        }
        Ok(match self.clock {
            Clock::Real { .. } => {
                if id == super::abi::clockid::REALTIME {
                    1_000
                } else {
                    1
                }
            }
            Clock::Virtual { step, .. } => step.max(1),
        })
    }

    /// Reads a clock (a virtual clock advances by its step).
    pub(crate) fn clock_now(&mut self, id: u32) -> WResult<u64> {
        if id > super::abi::clockid::THREAD_CPUTIME {
            return Err(Errno::INVAL.into());
        }
        Ok(match &mut self.clock {
            Clock::Real { start } => real_clock_ns(start, id),
            Clock::Virtual { now, step } => {
                let t = *now;
                *now = now.saturating_add(*step);
                t
            }
        })
    }

    /// Reads a clock without advancing a virtual one.
    pub(crate) fn clock_peek(&self, id: u32) -> u64 {
        match &self.clock {
            Clock::Real { start } => real_clock_ns(start, id),
            Clock::Virtual { now, .. } => *now,
        }
    }

    /// Waits `ns` nanoseconds: a virtual clock advances, a real one sleeps if allowed.
    pub(crate) fn wait(&mut self, ns: u64) {
        match &mut self.clock {
            Clock::Virtual { now, .. } => *now = now.saturating_add(ns),
            Clock::Real { .. } => {
                if self.allow_sleep && ns > 0 {
                    std::thread::sleep(Duration::from_nanos(ns));
                }
            }
        }
    }

    /// Whether a descriptor is open with the APPEND flag.
    pub(crate) fn appends(&self, fd: u32) -> bool {
        self.fds
            .get(&fd)
            .is_some_and(|e| e.flags & fdflags::APPEND != 0)
    }
}

/// Nanoseconds on a real clock: wall time since the epoch for `REALTIME`, time since the
/// state was created for the monotonic and CPU-time clocks.
fn real_clock_ns(start: &std::time::Instant, id: u32) -> u64 {
    let d = if id == super::abi::clockid::REALTIME {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    } else {
        start.elapsed()
    };
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
