//! An advisory lock on a results folder, held for the whole of a `run`, `merge` or `plot`, so
//! that two processes never write one folder at once.
//!
//! The lock is the operating system's (flock on Unix, LockFileEx on Windows) on the file
//! `.dyadsim.lock` in the folder; it is released when the process ends, however it ends, so a
//! killed run never leaves a stale lock. The file holds the holder's process id, host and command
//! for the message the next process shows; it stays in the folder (removing it while others may
//! have it open would let two processes lock two different files).

use crate::error::{LabError, Result};
use crate::folder::Role;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file inside a results folder.
pub const LOCK: &str = ".dyadsim.lock";

/// A held lock; dropping it releases the folder.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
    dir: PathBuf,
}

impl FolderLock {
    /// The locked folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "an unknown host".into())
}

/// Lock `dir` (creating it when absent) for `command`, a description such as `dyadsim run x.ron`.
/// A folder that is not dyadsim's is refused before anything is written into it; when another
/// process holds the lock, the error (an input error) names that process.
pub fn lock(dir: &Path, command: &str) -> Result<FolderLock> {
    lock_beside(dir, command, &[])
}

/// [`lock`] for the target of a merge, which may hold the folders it merges (`sources`).
pub fn lock_beside(
    dir: &Path,
    command: &str,
    sources: &[std::path::PathBuf],
) -> Result<FolderLock> {
    lock_as(dir, command, sources, Role::Output)
}

/// [`lock_beside`] for a folder of `role`: a folder the command reads ([`Role::MergeSource`],
/// [`Role::Figures`]) must already be a results folder, and is refused (never created) otherwise.
pub fn lock_as(
    dir: &Path,
    command: &str,
    sources: &[std::path::PathBuf],
    role: Role,
) -> Result<FolderLock> {
    crate::folder::recognise_as(dir, sources, role)?;
    let path = dir.join(LOCK);
    let io = |source| LabError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| LabError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // The holder may be between truncating and writing: an empty text still refuses.
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LabError::Busy {
                dir: dir.to_owned(),
                holder: if holder.is_empty() {
                    "another process".into()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(fs4::TryLockError::Error(source)) => return Err(io(source)),
    }
    let holder = format!("process {} on {}: {command}\n", std::process::id(), host());
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    file.write_all(holder.as_bytes()).map_err(io)?;
    Ok(FolderLock {
        _file: file,
        dir: dir.to_owned(),
    })
}
