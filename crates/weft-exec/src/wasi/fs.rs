//! Sandboxed path resolution and host file-system helpers.

use super::abi::{filetype, Errno};
use super::{WResult, WasiLimits};
use std::collections::VecDeque;
use std::fs::{FileType, Metadata};
use std::io;
use std::path::{Path, PathBuf};
#[cfg(not(unix))]
use std::time::{SystemTime, UNIX_EPOCH};

/// A guest path resolved beneath a directory.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The host path: the directory joined with components that are not symbolic links
    /// (except possibly the last, when it was not to be followed).
    pub(crate) host: PathBuf,
    /// The path ended in `/`: it must name a directory.
    pub(crate) trailing_slash: bool,
    /// The path names the directory itself (`.`, `a/..`).
    pub(crate) is_base: bool,
    /// The components of `host` below the directory.
    pub(crate) rel: Vec<String>,
}

/// Resolves `path` beneath the host directory `base`.
///
/// Components are looked at one by one: `.` is skipped, `..` goes up but never above `base`,
/// symbolic links are read and their (relative) targets spliced in, so the resulting host
/// path contains no symbolic link the host would follow. The last component's link is
/// followed only if `follow_last` (or the path ends in `/`).
pub(crate) fn resolve(
    base: &Path,
    path: &str,
    follow_last: bool,
    limits: &WasiLimits,
) -> WResult<Resolved> {
    if path.is_empty() {
        return Err(Errno::NOENT.into());
    }
    if path.len() > limits.max_path_bytes as usize {
        return Err(Errno::NAMETOOLONG.into());
    }
    if path.contains('\0') {
        return Err(Errno::INVAL.into());
    }
    if path.starts_with('/') {
        return Err(Errno::NOTCAPABLE.into());
    }
    let trailing_slash = path.ends_with('/');
    let mut pending: VecDeque<String> = components(path)?.into();
    let mut cur: Vec<String> = Vec::new();
    let mut links = 0u32;
    while let Some(c) = pending.pop_front() {
        if c == ".." {
            if cur.pop().is_none() {
                return Err(Errno::NOTCAPABLE.into());
            }
            continue;
        }
        let is_last = pending.is_empty();
        let follow = !is_last || follow_last || trailing_slash;
        let mut p = base.to_path_buf();
        p.extend(&cur);
        p.push(&c);
        match std::fs::symlink_metadata(&p) {
            Ok(md) if md.file_type().is_symlink() && follow => {
                links += 1;
                if links > limits.max_symlinks {
                    return Err(Errno::LOOP.into());
                }
                let target = std::fs::read_link(&p)?;
                let target = target.to_str().ok_or(Errno::ILSEQ)?;
                if target.is_empty() {
                    return Err(Errno::NOENT.into());
                }
                if target.starts_with('/') {
                    return Err(Errno::NOTCAPABLE.into());
                }
                for t in components(target)?.into_iter().rev() {
                    pending.push_front(t);
                }
            }
            Ok(md) => {
                if !is_last && !md.is_dir() {
                    return Err(Errno::NOTDIR.into());
                }
                cur.push(c);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !is_last {
                    return Err(Errno::NOENT.into());
                }
                cur.push(c);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut host = base.to_path_buf();
    host.extend(&cur);
    if trailing_slash {
        if let Ok(md) = std::fs::symlink_metadata(&host) {
            if !md.is_dir() {
                return Err(Errno::NOTDIR.into());
            }
        }
    }
    Ok(Resolved {
        host,
        trailing_slash,
        is_base: cur.is_empty(),
        rel: cur,
    })
}

/// Splits a relative path into components, dropping empty ones and `.`.
fn components(path: &str) -> WResult<Vec<String>> {
    let mut out = Vec::new();
    for c in path.split('/') {
        if c.is_empty() || c == "." {
            continue;
        }
        if c.len() > 255 {
            return Err(Errno::NAMETOOLONG.into());
        }
        // Elsewhere `\` and `:` are separators or drive prefixes the host would interpret.
        if cfg!(not(unix)) && (c.contains('\\') || c.contains(':')) {
            return Err(Errno::NOTCAPABLE.into());
        }
        out.push(c.to_string());
    }
    Ok(out)
}

/// The guest error number for a host I/O error.
pub(crate) fn io_errno(e: &io::Error) -> Errno {
    #[cfg(target_os = "linux")]
    if let Some(code) = e.raw_os_error() {
        let mapped = match code {
            1 => Some(Errno::PERM),
            2 => Some(Errno::NOENT),
            4 => Some(Errno::INTR),
            5 => Some(Errno::IO),
            9 => Some(Errno::BADF),
            11 => Some(Errno::AGAIN),
            12 => Some(Errno::NOMEM),
            13 => Some(Errno::ACCES),
            16 => Some(Errno::BUSY),
            17 => Some(Errno::EXIST),
            18 => Some(Errno::XDEV),
            20 => Some(Errno::NOTDIR),
            21 => Some(Errno::ISDIR),
            22 => Some(Errno::INVAL),
            24 => Some(Errno::MFILE),
            26 => Some(Errno::TXTBSY),
            27 => Some(Errno::FBIG),
            28 => Some(Errno::NOSPC),
            29 => Some(Errno::SPIPE),
            30 => Some(Errno::ROFS),
            31 => Some(Errno::MLINK),
            32 => Some(Errno::PIPE),
            36 => Some(Errno::NAMETOOLONG),
            39 => Some(Errno::NOTEMPTY),
            40 => Some(Errno::LOOP),
            75 => Some(Errno::OVERFLOW),
            95 => Some(Errno::NOTSUP),
            116 => Some(Errno::STALE),
            122 => Some(Errno::DQUOT),
            _ => None,
        };
        if let Some(m) = mapped {
            return m;
        }
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => Errno::NOENT,
        K::PermissionDenied => Errno::ACCES,
        K::AlreadyExists => Errno::EXIST,
        K::WouldBlock => Errno::AGAIN,
        K::InvalidInput | K::InvalidData => Errno::INVAL,
        K::Interrupted => Errno::INTR,
        K::Unsupported => Errno::NOTSUP,
        K::OutOfMemory => Errno::NOMEM,
        K::BrokenPipe => Errno::PIPE,
        K::NotADirectory => Errno::NOTDIR,
        K::IsADirectory => Errno::ISDIR,
        K::DirectoryNotEmpty => Errno::NOTEMPTY,
        K::ReadOnlyFilesystem => Errno::ROFS,
        K::StorageFull => Errno::NOSPC,
        K::NotSeekable => Errno::SPIPE,
        K::FileTooLarge => Errno::FBIG,
        K::ResourceBusy => Errno::BUSY,
        K::ExecutableFileBusy => Errno::TXTBSY,
        K::Deadlock => Errno::DEADLK,
        K::CrossesDevices => Errno::XDEV,
        K::TooManyLinks => Errno::MLINK,
        K::InvalidFilename => Errno::NAMETOOLONG,
        K::ArgumentListTooLong => Errno::TOOBIG,
        K::QuotaExceeded => Errno::DQUOT,
        K::StaleNetworkFileHandle => Errno::STALE,
        _ => Errno::IO,
    }
}

/// The WASI file type of a host file type.
pub(crate) fn filetype_of(t: FileType) -> u8 {
    if t.is_dir() {
        return filetype::DIRECTORY;
    }
    if t.is_file() {
        return filetype::REGULAR_FILE;
    }
    if t.is_symlink() {
        return filetype::SYMBOLIC_LINK;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return filetype::CHARACTER_DEVICE;
        }
        if t.is_block_device() {
            return filetype::BLOCK_DEVICE;
        }
        if t.is_socket() {
            return filetype::SOCKET_STREAM;
        }
    }
    filetype::UNKNOWN
}

/// A `filestat` record.
#[derive(Default, Debug)]
pub(crate) struct Filestat {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
    pub(crate) nlink: u64,
    pub(crate) size: u64,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

#[cfg(not(unix))]
fn nanos(t: io::Result<SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Filestat {
    pub(crate) fn from_metadata(md: &Metadata) -> Filestat {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ts = |s: i64, ns: i64| (s.max(0) as u64).saturating_mul(1_000_000_000) + ns as u64;
            Filestat {
                dev: md.dev(),
                ino: md.ino(),
                filetype: filetype_of(md.file_type()),
                nlink: md.nlink(),
                size: md.len(),
                atim: ts(md.atime(), md.atime_nsec()),
                mtim: ts(md.mtime(), md.mtime_nsec()),
                ctim: ts(md.ctime(), md.ctime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            Filestat {
                dev: 0,
                ino: 0,
                filetype: filetype_of(md.file_type()),
                nlink: 1,
                size: md.len(),
                atim: nanos(md.accessed()),
                mtim: nanos(md.modified()),
                ctim: nanos(md.created()),
            }
        }
    }

    pub(crate) fn to_bytes(&self) -> [u8; super::abi::FILESTAT_SIZE] {
        let mut b = [0u8; super::abi::FILESTAT_SIZE];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// One directory entry for `fd_readdir`.
pub(crate) struct DirEntry {
    pub(crate) name: Vec<u8>,
    pub(crate) ino: u64,
    pub(crate) filetype: u8,
}

/// The entries of a host directory: `.`, `..`, then the rest sorted by name.
pub(crate) fn list_dir(dir: &Path) -> WResult<Vec<DirEntry>> {
    let self_md = std::fs::metadata(dir)?;
    let ino_of = |md: &Metadata| -> u64 {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            md.ino()
        }
        #[cfg(not(unix))]
        {
            let _ = md;
            0
        }
    };
    // `..` gets the directory's own inode number: the parent may lie outside the sandbox,
    // and a zero would make wasi-libc look it up with `fstatat`.
    let ino = ino_of(&self_md);
    let mut out = vec![
        DirEntry {
            name: b".".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
        DirEntry {
            name: b"..".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
    ];
    let mut rest = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        #[cfg(unix)]
        let (name, ino) = {
            use std::os::unix::ffi::OsStrExt;
            use std::os::unix::fs::DirEntryExt;
            (e.file_name().as_bytes().to_vec(), e.ino())
        };
        #[cfg(not(unix))]
        let (name, ino) = (
            e.file_name().to_string_lossy().into_owned().into_bytes(),
            0u64,
        );
        let ft = e.file_type().map(filetype_of).unwrap_or(filetype::UNKNOWN);
        rest.push(DirEntry {
            name,
            ino,
            filetype: ft,
        });
    }
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(rest);
    Ok(out)
}
