//! The `wasi_snapshot_preview1` functions.
//!
//! Each body takes the state, the guest memory and the concrete arguments, and returns
//! `Ok(())` (errno 0), an error number, or a host-level stop (`proc_exit`, a domain fault).
//! Output pointers are checked before any side effect where that is cheap, so a bad pointer
//! leaves no half-done operation behind.

use super::abi::{eventtype, fdflags, fstflags, oflags, rights, whence, Errno};
use super::abi::{DIRENT_SIZE, EVENT_SIZE, FDSTAT_SIZE, FILESTAT_SIZE, LOOKUP_SYMLINK_FOLLOW};
use super::abi::{PRESTAT_SIZE, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE};
use super::fs::{self, resolve, Filestat};
use super::mem::GuestMem;
use super::state::{DirFd, FdEntry, FdKind, WasiState};
use super::{Args, Error, WResult};
use crate::host::HostError;
use std::fs::{File, FileTimes, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft_core::ValType;

/// Most parameters of any preview-1 function (`path_open`).
pub(crate) const MAX_PARAMS: usize = 10;

/// A function body.
pub(crate) type Impl = fn(&mut WasiState, &mut GuestMem<'_>, &Args) -> WResult;

/// One function: name, parameter types, whether it returns an errno, body.
pub(crate) struct Def {
    pub(crate) name: &'static str,
    pub(crate) params: &'static [ValType],
    pub(crate) returns_errno: bool,
    pub(crate) imp: Impl,
}

const I: ValType = ValType::I32;
const L: ValType = ValType::I64;

macro_rules! def {
    ($name:ident, [$($p:ident),*]) => {
        Def { name: stringify!($name), params: &[$($p),*], returns_errno: true, imp: $name }
    };
}

/// Every preview-1 function, with its exact core signature.
pub(crate) static FUNCS: &[Def] = &[
    def!(args_get, [I, I]),
    def!(args_sizes_get, [I, I]),
    def!(environ_get, [I, I]),
    def!(environ_sizes_get, [I, I]),
    def!(clock_res_get, [I, I]),
    def!(clock_time_get, [I, L, I]),
    def!(fd_advise, [I, L, L, I]),
    def!(fd_allocate, [I, L, L]),
    def!(fd_close, [I]),
    def!(fd_datasync, [I]),
    def!(fd_fdstat_get, [I, I]),
    def!(fd_fdstat_set_flags, [I, I]),
    def!(fd_fdstat_set_rights, [I, L, L]),
    def!(fd_filestat_get, [I, I]),
    def!(fd_filestat_set_size, [I, L]),
    def!(fd_filestat_set_times, [I, L, L, I]),
    def!(fd_pread, [I, I, I, L, I]),
    def!(fd_prestat_get, [I, I]),
    def!(fd_prestat_dir_name, [I, I, I]),
    def!(fd_pwrite, [I, I, I, L, I]),
    def!(fd_read, [I, I, I, I]),
    def!(fd_readdir, [I, I, I, L, I]),
    def!(fd_renumber, [I, I]),
    def!(fd_seek, [I, L, I, I]),
    def!(fd_sync, [I]),
    def!(fd_tell, [I, I]),
    def!(fd_write, [I, I, I, I]),
    def!(path_create_directory, [I, I, I]),
    def!(path_filestat_get, [I, I, I, I, I]),
    def!(path_filestat_set_times, [I, I, I, I, L, L, I]),
    def!(path_link, [I, I, I, I, I, I, I]),
    def!(path_open, [I, I, I, I, I, L, L, I, I]),
    def!(path_readlink, [I, I, I, I, I, I]),
    def!(path_remove_directory, [I, I, I]),
    def!(path_rename, [I, I, I, I, I, I]),
    def!(path_symlink, [I, I, I, I, I]),
    def!(path_unlink_file, [I, I, I]),
    def!(poll_oneoff, [I, I, I, I]),
    Def {
        name: "proc_exit",
        params: &[I],
        returns_errno: false,
        imp: proc_exit,
    },
    def!(proc_raise, [I]),
    def!(sched_yield, []),
    def!(random_get, [I, I]),
    def!(sock_accept, [I, I, I]),
    def!(sock_recv, [I, I, I, I, I, I]),
    def!(sock_send, [I, I, I, I, I]),
    def!(sock_shutdown, [I, I]),
];

// ---------------------------------------------------------------- helpers

fn err<T>(e: Errno) -> WResult<T> {
    Err(Error::Errno(e))
}

/// Writes NUL-terminated strings at `buf` and pointers to them at `ptrs`.
fn write_strings(mem: &mut GuestMem<'_>, list: &[Vec<u8>], ptrs: u32, buf: u32) -> WResult {
    let size: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
    mem.check(ptrs, list.len() as u64 * 4)?;
    mem.check(buf, size)?;
    let mut ptr_bytes = Vec::with_capacity(list.len() * 4);
    let mut data = Vec::with_capacity(size as usize);
    let mut at = buf as u64;
    for s in list {
        ptr_bytes.extend_from_slice(&(at as u32).to_le_bytes());
        data.extend_from_slice(s);
        data.push(0);
        at += s.len() as u64 + 1;
    }
    mem.write(ptrs, &ptr_bytes)?;
    mem.write(buf, &data)
}

fn write_sizes(mem: &mut GuestMem<'_>, list: &[Vec<u8>], count_ptr: u32, size_ptr: u32) -> WResult {
    mem.check(count_ptr, 4)?;
    mem.check(size_ptr, 4)?;
    let size: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
    let size = u32::try_from(size).map_err(|_| Error::Errno(Errno::OVERFLOW))?;
    mem.write_u32(count_ptr, list.len() as u32)?;
    mem.write_u32(size_ptr, size)
}

/// Reads a guest path, refusing overlong ones before copying.
fn read_path(st: &WasiState, mem: &GuestMem<'_>, ptr: u32, len: u32) -> WResult<String> {
    if len > st.limits.max_path_bytes {
        return err(Errno::NAMETOOLONG);
    }
    mem.read_str(ptr, len)
}

fn is_stream(kind: &FdKind) -> bool {
    matches!(kind, FdKind::Stdin | FdKind::Stdout | FdKind::Stderr)
}

fn retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(unix)]
fn file_read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    retry(|| f.read_at(buf, at))
}

#[cfg(unix)]
fn file_write_at(f: &File, buf: &[u8], at: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    retry(|| f.write_at(buf, at))
}

#[cfg(not(unix))]
fn file_read_at(mut f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    let saved = f.stream_position()?;
    f.seek(SeekFrom::Start(at))?;
    let r = retry(|| f.read(buf));
    f.seek(SeekFrom::Start(saved))?;
    r
}

#[cfg(not(unix))]
fn file_write_at(mut f: &File, buf: &[u8], at: u64) -> std::io::Result<usize> {
    let saved = f.stream_position()?;
    f.seek(SeekFrom::Start(at))?;
    let r = retry(|| f.write(buf));
    f.seek(SeekFrom::Start(saved))?;
    r
}

/// One host read of at most `buf.len()` bytes from `fd` (at `pos` if given).
fn read_chunk(st: &mut WasiState, fd: u32, buf: &mut [u8], pos: Option<u64>) -> WResult<usize> {
    if matches!(st.entry(fd)?.kind, FdKind::Stdin) {
        return st.read_stdin(buf);
    }
    match &mut st.entry_mut(fd)?.kind {
        FdKind::File(f) => Ok(match pos {
            Some(at) => file_read_at(f, buf, at)?,
            None => retry(|| f.read(buf))?,
        }),
        FdKind::Dir(_) => err(Errno::ISDIR),
        _ => err(Errno::BADF),
    }
}

/// One host write of at most `data.len()` bytes to `fd` (at `pos` if given).
fn write_chunk(st: &mut WasiState, fd: u32, data: &[u8], pos: Option<u64>) -> WResult<usize> {
    let append = st.appends(fd);
    match &st.entry(fd)?.kind {
        FdKind::Stdout => return st.write_stream(false, data),
        FdKind::Stderr => return st.write_stream(true, data),
        _ => {}
    }
    match &mut st.entry_mut(fd)?.kind {
        FdKind::File(f) => Ok(match pos {
            Some(at) => file_write_at(f, data, at)?,
            None => {
                if append {
                    f.seek(SeekFrom::End(0))?;
                }
                retry(|| f.write(data))?
            }
        }),
        FdKind::Dir(_) => err(Errno::ISDIR),
        _ => err(Errno::BADF),
    }
}

/// What a vectored read or write works with, after its checks.
struct IoPlan {
    /// The guest's (pointer, length) buffers.
    iov: Vec<(u32, u32)>,
    /// Most bytes this call moves.
    limit: usize,
    /// Bytes moved per host call.
    chunk: usize,
    /// Scratch buffer of one chunk.
    buf: Vec<u8>,
}

/// The checks shared by `fd_read`/`fd_pread`/`fd_write`/`fd_pwrite`: the fd is open, not a
/// directory, positioned I/O only on seekable files, and it holds `right` (and `FD_SEEK` for
/// positioned I/O).
fn plan_io(
    st: &mut WasiState,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    pos: Option<u64>,
    right: u64,
) -> WResult<IoPlan> {
    let iov = mem.iovecs(iovs, count)?;
    let e = st.entry(fd)?;
    if pos.is_some() && is_stream(&e.kind) {
        return err(Errno::SPIPE);
    }
    if matches!(e.kind, FdKind::Dir(_)) {
        return err(Errno::ISDIR);
    }
    let needed = right | if pos.is_some() { rights::FD_SEEK } else { 0 };
    st.with_rights(fd, needed)?;
    if pos.is_some_and(|p| p > i64::MAX as u64) {
        return err(Errno::INVAL);
    }
    let limit = st.limits.max_io_bytes_per_call.min(u32::MAX as usize);
    let chunk = st.limits.io_chunk_bytes.max(1);
    let requested: u64 = iov.iter().map(|&(_, l)| l as u64).sum();
    let buf = vec![0u8; (requested.min(chunk as u64) as usize).min(limit)];
    Ok(IoPlan {
        iov,
        limit,
        chunk,
        buf,
    })
}

/// `fd_read`/`fd_pread`: scatters into the iovecs, in chunks; stops at a short read.
fn read_iovecs(
    st: &mut WasiState,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    pos: Option<u64>,
) -> WResult<u32> {
    let IoPlan {
        iov,
        limit,
        chunk,
        mut buf,
    } = plan_io(st, mem, fd, iovs, count, pos, rights::FD_READ)?;
    let mut total = 0usize;
    'outer: for (ptr, len) in iov {
        let mut off = 0usize;
        while off < len as usize {
            let want = (len as usize - off).min(chunk).min(limit - total);
            if want == 0 {
                break 'outer;
            }
            let at = match pos {
                Some(p) => Some(p.checked_add(total as u64).ok_or(Errno::INVAL)?),
                None => None,
            };
            let n = match read_chunk(st, fd, &mut buf[..want], at) {
                Ok(n) => n,
                Err(_) if total > 0 => break 'outer,
                Err(e) => return Err(e),
            };
            mem.write(ptr + off as u32, &buf[..n])?;
            total += n;
            off += n;
            if n < want {
                break 'outer;
            }
        }
    }
    Ok(total as u32)
}

/// `fd_write`/`fd_pwrite`: gathers from the iovecs, in chunks; stops at a short write.
fn write_iovecs(
    st: &mut WasiState,
    mem: &mut GuestMem<'_>,
    fd: u32,
    iovs: u32,
    count: u32,
    pos: Option<u64>,
) -> WResult<u32> {
    let IoPlan {
        iov,
        limit,
        chunk,
        mut buf,
    } = plan_io(st, mem, fd, iovs, count, pos, rights::FD_WRITE)?;
    let mut total = 0usize;
    'outer: for (ptr, len) in iov {
        let mut off = 0usize;
        while off < len as usize {
            let want = (len as usize - off).min(chunk).min(limit - total);
            if want == 0 {
                break 'outer;
            }
            mem.read_into(ptr + off as u32, &mut buf[..want])?;
            let at = match pos {
                Some(p) => Some(p.checked_add(total as u64).ok_or(Errno::INVAL)?),
                None => None,
            };
            let n = match write_chunk(st, fd, &buf[..want], at) {
                Ok(n) => n,
                Err(_) if total > 0 => break 'outer,
                Err(e) => return Err(e),
            };
            total += n;
            off += n;
            if n < want {
                break 'outer;
            }
        }
    }
    Ok(total as u32)
}

fn file_times(atim: u64, mtim: u64, flags: u32) -> WResult<FileTimes> {
    let f = flags;
    if f & !0xf != 0 {
        return err(Errno::INVAL);
    }
    let (a, an, m, mn) = (
        f & fstflags::ATIM as u32 != 0,
        f & fstflags::ATIM_NOW as u32 != 0,
        f & fstflags::MTIM as u32 != 0,
        f & fstflags::MTIM_NOW as u32 != 0,
    );
    if (a && an) || (m && mn) {
        return err(Errno::INVAL);
    }
    let at = |ns: u64| {
        UNIX_EPOCH
            .checked_add(Duration::from_nanos(ns))
            .ok_or(Errno::INVAL)
    };
    let mut t = FileTimes::new();
    if a {
        t = t.set_accessed(at(atim)?);
    } else if an {
        t = t.set_accessed(SystemTime::now());
    }
    if m {
        t = t.set_modified(at(mtim)?);
    } else if mn {
        t = t.set_modified(SystemTime::now());
    }
    Ok(t)
}

// ---------------------------------------------------------------- args, environ

fn args_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    write_strings(mem, &st.args, a.u32(0), a.u32(1))
}

fn args_sizes_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    write_sizes(mem, &st.args, a.u32(0), a.u32(1))
}

fn environ_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    write_strings(mem, &st.env, a.u32(0), a.u32(1))
}

fn environ_sizes_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    write_sizes(mem, &st.env, a.u32(0), a.u32(1))
}

// ---------------------------------------------------------------- clocks, random, misc

fn clock_res_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    mem.check(a.u32(1), 8)?;
    let r = st.clock_res(a.u32(0))?;
    mem.write_u64(a.u32(1), r)
}

fn clock_time_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    mem.check(a.u32(2), 8)?;
    let t = st.clock_now(a.u32(0))?;
    mem.write_u64(a.u32(2), t)
}

fn random_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (ptr, len) = (a.u32(0), a.u32(1));
    mem.check(ptr, len as u64)?;
    let chunk = st.limits.io_chunk_bytes.max(1);
    let mut buf = vec![0u8; (len as usize).min(chunk)];
    let mut done = 0usize;
    while done < len as usize {
        let n = (len as usize - done).min(chunk);
        st.fill_random(&mut buf[..n]);
        mem.write(ptr + done as u32, &buf[..n])?;
        done += n;
    }
    Ok(())
}

fn proc_exit(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let code = a.u32(0) as i32;
    st.exit_code = Some(code);
    st.flush_stream(false);
    st.flush_stream(true);
    Err(Error::Host(HostError::Exit(code)))
}

fn proc_raise(_st: &mut WasiState, _mem: &mut GuestMem<'_>, _a: &Args) -> WResult {
    err(Errno::NOSYS)
}

fn sched_yield(_st: &mut WasiState, _mem: &mut GuestMem<'_>, _a: &Args) -> WResult {
    Ok(())
}

fn poll_oneoff(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (inp, out, n, nevents) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return err(Errno::INVAL);
    }
    mem.check(inp, n as u64 * SUBSCRIPTION_SIZE as u64)?;
    mem.check(out, n as u64 * EVENT_SIZE as u64)?;
    mem.check(nevents, 4)?;
    let raw = mem.read_vec(inp, n as u64 * SUBSCRIPTION_SIZE as u64)?;
    let stdin_available = st.stdin_available();
    // (userdata, error, type, nbytes)
    let mut events: Vec<(u64, Errno, u8, u64)> = Vec::new();
    // (userdata, nanoseconds to wait)
    let mut clocks: Vec<(u64, u64)> = Vec::new();
    let u64_at = |s: &[u8], o: usize| u64::from_le_bytes(s[o..o + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |s: &[u8], o: usize| u32::from_le_bytes(s[o..o + 4].try_into().unwrap_or([0; 4]));
    for s in raw.chunks_exact(SUBSCRIPTION_SIZE as usize) {
        let userdata = u64_at(s, 0);
        match s[8] {
            eventtype::CLOCK => {
                let id = u32_at(s, 16);
                let timeout = u64_at(s, 24);
                let flags = u16::from_le_bytes([s[40], s[41]]);
                if id > super::abi::clockid::THREAD_CPUTIME {
                    events.push((userdata, Errno::INVAL, eventtype::CLOCK, 0));
                    continue;
                }
                let wait = if flags & SUBCLOCK_ABSTIME != 0 {
                    timeout.saturating_sub(st.clock_peek(id))
                } else {
                    timeout
                };
                clocks.push((userdata, wait));
            }
            t @ (eventtype::FD_READ | eventtype::FD_WRITE) => {
                let fd = u32_at(s, 16);
                let ev = match st.fds.get_mut(&fd) {
                    None => (userdata, Errno::BADF, t, 0),
                    Some(e) if e.base & rights::POLL_FD_READWRITE == 0 => {
                        (userdata, Errno::NOTCAPABLE, t, 0)
                    }
                    Some(e) => {
                        let nbytes = match (&mut e.kind, t) {
                            (FdKind::File(f), eventtype::FD_READ) => {
                                let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                                let pos = f.stream_position().unwrap_or(0);
                                len.saturating_sub(pos)
                            }
                            (FdKind::Stdin, eventtype::FD_READ) => stdin_available,
                            _ => 0,
                        };
                        (userdata, Errno::SUCCESS, t, nbytes)
                    }
                };
                events.push(ev);
            }
            _ => return err(Errno::INVAL),
        }
    }
    if events.is_empty() {
        if let Some(min) = clocks.iter().map(|c| c.1).min() {
            st.wait(min);
            for &(userdata, wait) in &clocks {
                if wait == min {
                    events.push((userdata, Errno::SUCCESS, eventtype::CLOCK, 0));
                }
            }
        }
    }
    let mut bytes = Vec::with_capacity(events.len() * EVENT_SIZE as usize);
    for (userdata, errno, ty, nbytes) in &events {
        let mut ev = [0u8; EVENT_SIZE as usize];
        ev[0..8].copy_from_slice(&userdata.to_le_bytes());
        ev[8..10].copy_from_slice(&errno.0.to_le_bytes());
        ev[10] = *ty;
        ev[16..24].copy_from_slice(&nbytes.to_le_bytes());
        bytes.extend_from_slice(&ev);
    }
    mem.write(out, &bytes)?;
    mem.write_u32(nevents, events.len() as u32)
}

// ---------------------------------------------------------------- descriptors

fn fd_advise(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let e = st.entry(a.u32(0))?;
    if is_stream(&e.kind) {
        return err(Errno::SPIPE);
    }
    st.with_rights(a.u32(0), rights::FD_ADVISE)?;
    if a.u32(3) > 5 {
        return err(Errno::INVAL);
    }
    Ok(())
}

fn fd_allocate(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let e = st.with_rights(a.u32(0), rights::FD_ALLOCATE)?;
    let FdKind::File(f) = &mut e.kind else {
        return err(Errno::BADF);
    };
    let end = a.u64(1).checked_add(a.u64(2)).ok_or(Errno::FBIG)?;
    if end > i64::MAX as u64 {
        return err(Errno::FBIG);
    }
    if f.metadata()?.len() < end {
        f.set_len(end)?;
    }
    Ok(())
}

fn fd_close(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    match st.fds.remove(&a.u32(0)) {
        Some(_) => Ok(()),
        None => err(Errno::BADF),
    }
}

fn sync(st: &mut WasiState, fd: u32, right: u64, data_only: bool) -> WResult {
    let e = st.with_rights(fd, right)?;
    match &mut e.kind {
        FdKind::File(f) => {
            if data_only {
                f.sync_data()?
            } else {
                f.sync_all()?
            }
        }
        FdKind::Stdout => st.flush_stream(false),
        FdKind::Stderr => st.flush_stream(true),
        _ => {}
    }
    Ok(())
}

fn fd_datasync(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sync(st, a.u32(0), rights::FD_DATASYNC, true)
}

fn fd_sync(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sync(st, a.u32(0), rights::FD_SYNC, false)
}

fn fd_fdstat_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(1);
    mem.check(out, FDSTAT_SIZE as u64)?;
    let e = st.entry(a.u32(0))?;
    let ft = match &e.kind {
        FdKind::File(f) => f
            .metadata()
            .map_or(super::abi::filetype::REGULAR_FILE, |m| {
                fs::filetype_of(m.file_type())
            }),
        FdKind::Dir(_) => super::abi::filetype::DIRECTORY,
        k => st.stream_filetype(k),
    };
    let mut b = [0u8; FDSTAT_SIZE];
    b[0] = ft;
    b[2..4].copy_from_slice(&e.flags.to_le_bytes());
    b[8..16].copy_from_slice(&e.base.to_le_bytes());
    b[16..24].copy_from_slice(&e.inheriting.to_le_bytes());
    mem.write(out, &b)
}

fn fd_fdstat_set_flags(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let flags = a.u32(1);
    let e = st.with_rights(a.u32(0), rights::FD_FDSTAT_SET_FLAGS)?;
    if flags > fdflags::ALL as u32 {
        return err(Errno::INVAL);
    }
    e.flags = flags as u16;
    Ok(())
}

fn fd_fdstat_set_rights(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (base, inheriting) = (a.u64(1), a.u64(2));
    let e = st.entry_mut(a.u32(0))?;
    if base & !e.base != 0 || inheriting & !e.inheriting != 0 {
        return err(Errno::NOTCAPABLE);
    }
    e.base = base;
    e.inheriting = inheriting;
    Ok(())
}

fn fd_filestat_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(1);
    mem.check(out, FILESTAT_SIZE as u64)?;
    let fd = a.u32(0);
    st.with_rights(fd, rights::FD_FILESTAT_GET)?;
    let e = st.entry(fd)?;
    let stat = match &e.kind {
        FdKind::File(f) => Filestat::from_metadata(&f.metadata()?),
        FdKind::Dir(d) => Filestat::from_metadata(&std::fs::metadata(d.checked_host()?)?),
        k => Filestat {
            filetype: st.stream_filetype(k),
            ..Filestat::default()
        },
    };
    mem.write(out, &stat.to_bytes())
}

fn fd_filestat_set_size(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let size = a.u64(1);
    let e = st.with_rights(a.u32(0), rights::FD_FILESTAT_SET_SIZE)?;
    match &mut e.kind {
        FdKind::File(f) => {
            if size > i64::MAX as u64 {
                return err(Errno::FBIG);
            }
            f.set_len(size)?;
            Ok(())
        }
        FdKind::Dir(_) => err(Errno::ISDIR),
        _ => err(Errno::INVAL),
    }
}

fn fd_filestat_set_times(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let times = file_times(a.u64(1), a.u64(2), a.u32(3))?;
    let e = st.with_rights(a.u32(0), rights::FD_FILESTAT_SET_TIMES)?;
    match &mut e.kind {
        FdKind::File(f) => f.set_times(times)?,
        FdKind::Dir(d) => File::open(d.checked_host()?)?.set_times(times)?,
        _ => {}
    }
    Ok(())
}

fn fd_pread(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(4);
    mem.check(out, 4)?;
    let n = read_iovecs(st, mem, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)))?;
    mem.write_u32(out, n)
}

fn fd_pwrite(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(4);
    mem.check(out, 4)?;
    let n = write_iovecs(st, mem, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)))?;
    mem.write_u32(out, n)
}

fn fd_read(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(3);
    mem.check(out, 4)?;
    let n = read_iovecs(st, mem, a.u32(0), a.u32(1), a.u32(2), None)?;
    mem.write_u32(out, n)
}

fn fd_write(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(3);
    mem.check(out, 4)?;
    let n = write_iovecs(st, mem, a.u32(0), a.u32(1), a.u32(2), None)?;
    mem.write_u32(out, n)
}

fn preopen_name(st: &WasiState, fd: u32) -> WResult<String> {
    match &st.entry(fd)?.kind {
        FdKind::Dir(DirFd {
            preopen: Some(name),
            ..
        }) => Ok(name.clone()),
        _ => err(Errno::BADF),
    }
}

fn fd_prestat_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(1);
    mem.check(out, PRESTAT_SIZE as u64)?;
    let name = preopen_name(st, a.u32(0))?;
    let mut b = [0u8; PRESTAT_SIZE];
    b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
    mem.write(out, &b)
}

fn fd_prestat_dir_name(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (ptr, len) = (a.u32(1), a.u32(2));
    let name = preopen_name(st, a.u32(0))?;
    if (len as usize) < name.len() {
        return err(Errno::NAMETOOLONG);
    }
    mem.write(ptr, name.as_bytes())
}

fn fd_readdir(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (fd, buf, buf_len, cookie, out) = (a.u32(0), a.u32(1), a.u32(2), a.u64(3), a.u32(4));
    mem.check(buf, buf_len as u64)?;
    mem.check(out, 4)?;
    let e = st.entry(fd)?;
    let FdKind::Dir(d) = &e.kind else {
        return err(Errno::NOTDIR);
    };
    if e.base & rights::FD_READDIR == 0 {
        return err(Errno::NOTCAPABLE);
    }
    let entries = fs::list_dir(&d.checked_host()?)?;
    let mut bytes: Vec<u8> = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, ent) in entries.iter().enumerate().skip(start) {
        if bytes.len() >= buf_len as usize {
            break;
        }
        let mut h = [0u8; DIRENT_SIZE];
        h[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        h[8..16].copy_from_slice(&ent.ino.to_le_bytes());
        h[16..20].copy_from_slice(&(ent.name.len() as u32).to_le_bytes());
        h[20] = ent.filetype;
        bytes.extend_from_slice(&h);
        bytes.extend_from_slice(&ent.name);
    }
    bytes.truncate(buf_len as usize);
    mem.write(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}

fn fd_renumber(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (from, to) = (a.u32(0), a.u32(1));
    if !st.fds.contains_key(&from) || !st.fds.contains_key(&to) {
        return err(Errno::BADF);
    }
    if from != to {
        if let Some(e) = st.fds.remove(&from) {
            st.fds.insert(to, e);
        }
    }
    Ok(())
}

fn fd_seek(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (fd, offset, wh, out) = (a.u32(0), a.i64(1), a.u32(2), a.u32(3));
    mem.check(out, 8)?;
    let e = st.entry_mut(fd)?;
    if is_stream(&e.kind) {
        return err(Errno::SPIPE);
    }
    let tell_only = wh == whence::CUR as u32 && offset == 0;
    let ok = if tell_only {
        e.base & (rights::FD_SEEK | rights::FD_TELL) != 0
    } else {
        e.base & rights::FD_SEEK != 0
    };
    if !ok {
        return err(Errno::NOTCAPABLE);
    }
    let FdKind::File(f) = &mut e.kind else {
        return err(Errno::BADF);
    };
    let from = match wh {
        w if w == whence::SET as u32 => {
            if offset < 0 {
                return err(Errno::INVAL);
            }
            SeekFrom::Start(offset as u64)
        }
        w if w == whence::CUR as u32 => SeekFrom::Current(offset),
        w if w == whence::END as u32 => SeekFrom::End(offset),
        _ => return err(Errno::INVAL),
    };
    let pos = f.seek(from)?;
    mem.write_u64(out, pos)
}

fn fd_tell(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let out = a.u32(1);
    mem.check(out, 8)?;
    let e = st.entry_mut(a.u32(0))?;
    if is_stream(&e.kind) {
        return err(Errno::SPIPE);
    }
    if e.base & rights::FD_TELL == 0 {
        return err(Errno::NOTCAPABLE);
    }
    let FdKind::File(f) = &mut e.kind else {
        return err(Errno::BADF);
    };
    let pos = f.stream_position()?;
    mem.write_u64(out, pos)
}

// ---------------------------------------------------------------- paths

fn path_create_directory(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (base, _) = st.dir(a.u32(0), rights::PATH_CREATE_DIRECTORY)?;
    let path = read_path(st, mem, a.u32(1), a.u32(2))?;
    let r = resolve(&base, &path, false, &st.limits)?;
    if r.is_base {
        return err(Errno::EXIST);
    }
    std::fs::create_dir(&r.host)?;
    Ok(())
}

fn path_filestat_get(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (fd, flags, out) = (a.u32(0), a.u32(1), a.u32(4));
    mem.check(out, FILESTAT_SIZE as u64)?;
    let (base, _) = st.dir(fd, rights::PATH_FILESTAT_GET)?;
    let path = read_path(st, mem, a.u32(2), a.u32(3))?;
    let r = resolve(&base, &path, flags & LOOKUP_SYMLINK_FOLLOW != 0, &st.limits)?;
    let md = std::fs::symlink_metadata(&r.host)?;
    mem.write(out, &Filestat::from_metadata(&md).to_bytes())
}

fn path_filestat_set_times(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (fd, flags) = (a.u32(0), a.u32(1));
    let times = file_times(a.u64(4), a.u64(5), a.u32(6))?;
    let (base, _) = st.dir(fd, rights::PATH_FILESTAT_SET_TIMES)?;
    let path = read_path(st, mem, a.u32(2), a.u32(3))?;
    let r = resolve(&base, &path, flags & LOOKUP_SYMLINK_FOLLOW != 0, &st.limits)?;
    if std::fs::symlink_metadata(&r.host)?.file_type().is_symlink() {
        return err(Errno::NOTSUP);
    }
    File::open(&r.host)?.set_times(times)?;
    Ok(())
}

fn path_link(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (old_fd, old_flags, new_fd) = (a.u32(0), a.u32(1), a.u32(4));
    let (old_base, _) = st.dir(old_fd, rights::PATH_LINK_SOURCE)?;
    let (new_base, _) = st.dir(new_fd, rights::PATH_LINK_TARGET)?;
    let old = read_path(st, mem, a.u32(2), a.u32(3))?;
    let new = read_path(st, mem, a.u32(5), a.u32(6))?;
    let follow = old_flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let ro = resolve(&old_base, &old, follow, &st.limits)?;
    let rn = resolve(&new_base, &new, false, &st.limits)?;
    if rn.is_base {
        return err(Errno::EXIST);
    }
    std::fs::hard_link(&ro.host, &rn.host)?;
    Ok(())
}

/// Rights whose use needs the host file opened for writing.
const HOST_WRITE_RIGHTS: u64 =
    rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE;

fn path_open(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (dirfd, dirflags, oflags, fdflags) = (a.u32(0), a.u32(1), a.u32(4), a.u32(7));
    let (want_base, want_inh, out) = (a.u64(5), a.u64(6), a.u32(8));
    mem.check(out, 4)?;
    if oflags > 0xf || fdflags > fdflags::ALL as u32 {
        return err(Errno::INVAL);
    }
    let has = |f: u16| oflags & f as u32 != 0;
    let mut needed = rights::PATH_OPEN;
    if has(oflags::CREAT) {
        needed |= rights::PATH_CREATE_FILE;
    }
    if has(oflags::TRUNC) {
        needed |= rights::PATH_FILESTAT_SET_SIZE;
    }
    let (base_dir, dir_inh) = st.dir(dirfd, needed)?;
    let parent = match &st.entry(dirfd)?.kind {
        FdKind::Dir(d) => d.clone(),
        _ => return err(Errno::NOTDIR),
    };
    if want_base & HOST_WRITE_RIGHTS & !dir_inh != 0 {
        return err(Errno::NOTCAPABLE);
    }
    let path = read_path(st, mem, a.u32(2), a.u32(3))?;
    let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
    let r = resolve(&base_dir, &path, follow, &st.limits)?;
    let base = want_base & dir_inh;
    let inheriting = want_inh & dir_inh;
    let create = match std::fs::symlink_metadata(&r.host) {
        Ok(md) => {
            if has(oflags::CREAT) && has(oflags::EXCL) {
                return err(Errno::EXIST);
            }
            if md.file_type().is_symlink() {
                return err(Errno::LOOP);
            }
            if md.is_dir() {
                if has(oflags::TRUNC) || want_base & HOST_WRITE_RIGHTS != 0 {
                    return err(Errno::ISDIR);
                }
                let entry = FdEntry {
                    kind: FdKind::Dir(DirFd {
                        root: parent.root,
                        rel: parent.rel.into_iter().chain(r.rel).collect(),
                        preopen: None,
                    }),
                    base: base & rights::DIR,
                    inheriting,
                    flags: fdflags as u16,
                };
                let fd = st.insert(entry)?;
                return mem.write_u32(out, fd);
            }
            if has(oflags::DIRECTORY) || r.trailing_slash {
                return err(Errno::NOTDIR);
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !has(oflags::CREAT) {
                return err(Errno::NOENT);
            }
            if has(oflags::DIRECTORY) {
                return err(Errno::INVAL);
            }
            if r.trailing_slash {
                return err(Errno::ISDIR);
            }
            true
        }
        Err(e) => return Err(e.into()),
    };
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = base & HOST_WRITE_RIGHTS != 0 || has(oflags::TRUNC) || create;
    if st.fds.len() >= st.limits.max_open_fds as usize {
        return err(Errno::MFILE);
    }
    let file = OpenOptions::new()
        .read(read || !write)
        .write(write)
        .create(create)
        .create_new(create && has(oflags::EXCL))
        .truncate(has(oflags::TRUNC))
        .open(&r.host)?;
    let entry = FdEntry {
        kind: FdKind::File(file),
        base: base & rights::FILE,
        inheriting: inheriting & rights::FILE,
        flags: fdflags as u16,
    };
    let fd = st.insert(entry)?;
    mem.write_u32(out, fd)
}

fn path_readlink(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (fd, buf, buf_len, out) = (a.u32(0), a.u32(3), a.u32(4), a.u32(5));
    mem.check(buf, buf_len as u64)?;
    mem.check(out, 4)?;
    let (base, _) = st.dir(fd, rights::PATH_READLINK)?;
    let path = read_path(st, mem, a.u32(1), a.u32(2))?;
    let r = resolve(&base, &path, false, &st.limits)?;
    let target = std::fs::read_link(&r.host)?;
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        target.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = target.to_string_lossy().into_owned().into_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(out, n as u32)
}

fn path_remove_directory(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (base, _) = st.dir(a.u32(0), rights::PATH_REMOVE_DIRECTORY)?;
    let path = read_path(st, mem, a.u32(1), a.u32(2))?;
    let r = resolve(&base, &path, false, &st.limits)?;
    if r.is_base {
        return err(Errno::INVAL);
    }
    if !std::fs::symlink_metadata(&r.host)?.is_dir() {
        return err(Errno::NOTDIR);
    }
    std::fs::remove_dir(&r.host)?;
    Ok(())
}

fn path_rename(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (old_base, _) = st.dir(a.u32(0), rights::PATH_RENAME_SOURCE)?;
    let (new_base, _) = st.dir(a.u32(3), rights::PATH_RENAME_TARGET)?;
    let old = read_path(st, mem, a.u32(1), a.u32(2))?;
    let new = read_path(st, mem, a.u32(4), a.u32(5))?;
    let ro = resolve(&old_base, &old, false, &st.limits)?;
    let rn = resolve(&new_base, &new, false, &st.limits)?;
    if ro.is_base || rn.is_base {
        return err(Errno::BUSY);
    }
    std::fs::rename(&ro.host, &rn.host)?;
    Ok(())
}

fn path_symlink(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (base, _) = st.dir(a.u32(2), rights::PATH_SYMLINK)?;
    let target = read_path(st, mem, a.u32(0), a.u32(1))?;
    let new = read_path(st, mem, a.u32(3), a.u32(4))?;
    if target.contains('\0') {
        return err(Errno::INVAL);
    }
    if target.starts_with('/') {
        return err(Errno::NOTCAPABLE);
    }
    if target.is_empty() {
        return err(Errno::NOENT);
    }
    let rn = resolve(&base, &new, false, &st.limits)?;
    if rn.is_base {
        return err(Errno::EXIST);
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&target, &rn.host)?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = rn;
        err(Errno::NOTSUP)
    }
}

fn path_unlink_file(st: &mut WasiState, mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    let (base, _) = st.dir(a.u32(0), rights::PATH_UNLINK_FILE)?;
    let path = read_path(st, mem, a.u32(1), a.u32(2))?;
    let r = resolve(&base, &path, false, &st.limits)?;
    if r.is_base {
        return err(Errno::ISDIR);
    }
    let md = std::fs::symlink_metadata(&r.host)?;
    if md.is_dir() {
        return err(Errno::ISDIR);
    }
    if r.trailing_slash {
        return err(Errno::NOTDIR);
    }
    std::fs::remove_file(&r.host)?;
    Ok(())
}

// ---------------------------------------------------------------- sockets

fn sock_error(st: &WasiState, fd: u32) -> WResult {
    if st.fds.contains_key(&fd) {
        err(Errno::NOTSOCK)
    } else {
        err(Errno::BADF)
    }
}

fn sock_accept(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sock_error(st, a.u32(0))
}

fn sock_recv(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sock_error(st, a.u32(0))
}

fn sock_send(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sock_error(st, a.u32(0))
}

fn sock_shutdown(st: &mut WasiState, _mem: &mut GuestMem<'_>, a: &Args) -> WResult {
    sock_error(st, a.u32(0))
}
