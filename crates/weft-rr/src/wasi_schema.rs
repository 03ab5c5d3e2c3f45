//! Which arguments of the WASI preview 1 functions are pointers, so that memory accesses of
//! the host can be written relative to them (`arg3+0`, `iov1.0+16`) and replayed on another
//! build of the same program, where addresses differ.

use crate::memory::load_u32;

/// The module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// How the arguments of one function are used.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Indices of plain pointer arguments.
    pub pointers: &'static [usize],
    /// Index of an iovec-list pointer (its length is the next argument), if any.
    pub iovs: Option<usize>,
    /// Whether the function writes an array of pointers into its argument 0 that point into
    /// the buffer of argument 1 (`args_get`, `environ_get`).
    pub pointer_array: bool,
}

const fn p(pointers: &'static [usize]) -> Shape {
    Shape {
        pointers,
        iovs: None,
        pointer_array: false,
    }
}

const fn v(iov: usize, pointers: &'static [usize]) -> Shape {
    Shape {
        pointers,
        iovs: Some(iov),
        pointer_array: false,
    }
}

/// The shape of a preview-1 function, `None` for other names.
pub fn shape(name: &str) -> Option<Shape> {
    Some(match name {
        "args_get" | "environ_get" => Shape {
            pointers: &[0, 1],
            iovs: None,
            pointer_array: true,
        },
        "args_sizes_get" | "environ_sizes_get" => p(&[0, 1]),
        "clock_res_get" | "fd_fdstat_get" | "fd_filestat_get" | "fd_prestat_get" | "fd_tell" => {
            p(&[1])
        }
        "clock_time_get" => p(&[2]),
        "fd_pread" => v(1, &[4]),
        "fd_pwrite" => v(1, &[4]),
        "fd_read" | "fd_write" => v(1, &[3]),
        "fd_prestat_dir_name" => p(&[1]),
        "fd_readdir" => p(&[1, 4]),
        "fd_seek" => p(&[3]),
        "path_create_directory" | "path_remove_directory" | "path_unlink_file" => p(&[1]),
        "path_filestat_get" => p(&[2, 4]),
        "path_filestat_set_times" => p(&[2]),
        "path_link" => p(&[2, 5]),
        "path_open" => p(&[2, 8]),
        "path_readlink" => p(&[1, 3, 5]),
        "path_rename" => p(&[1, 4]),
        "path_symlink" => p(&[0, 3]),
        "poll_oneoff" => p(&[0, 1, 3]),
        "random_get" => p(&[0]),
        "sock_accept" => p(&[2]),
        "sock_recv" => v(1, &[4, 5]),
        "sock_send" => v(1, &[4]),
        "fd_advise"
        | "fd_allocate"
        | "fd_close"
        | "fd_datasync"
        | "fd_fdstat_set_flags"
        | "fd_fdstat_set_rights"
        | "fd_filestat_set_size"
        | "fd_filestat_set_times"
        | "fd_renumber"
        | "fd_sync"
        | "proc_exit"
        | "proc_raise"
        | "sched_yield"
        | "sock_shutdown" => p(&[]),
        _ => return None,
    })
}

impl Shape {
    /// Whether argument `i` is a pointer (its value may differ between builds).
    pub fn is_pointer(&self, i: usize) -> bool {
        self.pointers.contains(&i) || self.iovs == Some(i)
    }

    /// The iovec buffers `(address, length)` named by the arguments, read from `mem`.
    pub fn iovecs(&self, args: &[u64], mem: &[u8]) -> Vec<(u64, u64)> {
        let Some(k) = self.iovs else {
            return Vec::new();
        };
        let (Some(&base), Some(&n)) = (args.get(k), args.get(k + 1)) else {
            return Vec::new();
        };
        (0..n.min(1024))
            .map_while(|j| {
                let at = base + 8 * j;
                Some((load_u32(mem, at)? as u64, load_u32(mem, at + 4)? as u64))
            })
            .collect()
    }

    /// `at` for an access of `len` bytes at `addr`: a position in the byte stream of an
    /// iovec list (`iov1@16`: byte 16 of the buffers of the list in argument 1, so that a
    /// build that splits the same bytes differently replays the same), inside the iovec list
    /// itself (`iovs1+8`), or after the nearest pointer argument (`arg3+0`).
    pub fn locate(
        &self,
        args: &[u64],
        iovecs: &[(u64, u64)],
        addr: u64,
        len: u64,
    ) -> Option<String> {
        if let Some(k) = self.iovs {
            let mut before = 0u64;
            for &(b, l) in iovecs {
                if addr >= b && addr + len <= b + l {
                    return Some(format!("iov{k}@{}", before + addr - b));
                }
                before += l;
            }
            let base = *args.get(k)?;
            let n = *args.get(k + 1)?;
            if addr >= base && addr + len <= base + 8 * n {
                return Some(format!("iovs{k}+{}", addr - base));
            }
        }
        self.pointers
            .iter()
            .filter_map(|&i| Some((i, *args.get(i)?)))
            .filter(|&(_, a)| a <= addr)
            .min_by_key(|&(_, a)| addr - a)
            .map(|(i, a)| format!("arg{i}+{}", addr - a))
    }

    /// The memory ranges `(address, length)` that `at` names for `len` bytes under the
    /// current arguments and iovecs (several when an iovec stream range spans buffers).
    pub fn resolve(
        &self,
        at: &str,
        len: u64,
        args: &[u64],
        iovecs: &[(u64, u64)],
    ) -> Option<Vec<(u64, u64)>> {
        if let Some((base, off)) = at.split_once('@') {
            base.strip_prefix("iov")?.parse::<usize>().ok()?;
            let mut off: u64 = off.parse().ok()?;
            let mut left = len;
            let mut out = Vec::new();
            for &(b, l) in iovecs {
                if left == 0 {
                    break;
                }
                if off >= l {
                    off -= l;
                    continue;
                }
                let n = (l - off).min(left);
                out.push((b + off, n));
                left -= n;
                off = 0;
            }
            return (left == 0).then_some(out);
        }
        let (base, off) = at.split_once('+')?;
        let off: u64 = off.parse().ok()?;
        let start = if let Some(rest) = base.strip_prefix("iovs") {
            args.get(rest.parse::<usize>().ok()?)? + off
        } else {
            args.get(base.strip_prefix("arg")?.parse::<usize>().ok()?)? + off
        };
        Some(vec![(start, len)])
    }
}

/// Argument values widened to 64 bits (i32 zero-extended), as WASI sees them.
pub fn raw_args(args: &[wasmtime::Val]) -> Vec<u64> {
    args.iter()
        .map(|v| match v {
            wasmtime::Val::I32(x) => *x as u32 as u64,
            wasmtime::Val::I64(x) => *x as u64,
            _ => 0,
        })
        .collect()
}
