//! Reading a file dyadsim finds inside a results folder (a checkpoint, a run record) without
//! trusting what stands at its name: only a regular file of a plausible size is opened, so a FIFO
//! cannot block a run, a link to /dev/zero cannot fill the memory, and a folder or an unreadable
//! file is bad input with advice rather than a bare system error.

use crate::error::{LabError, Result};
use std::io::{ErrorKind, Read};
use std::path::Path;

/// The bytes of the `what` at `path` (at most `limit` of them), `None` when nothing is there.
/// Anything but a regular file (after following links), a file larger than `limit` or one that
/// cannot be read is [`LabError::Unreadable`] naming the file, with `advice` appended.
pub fn read_regular(path: &Path, what: &str, limit: u64, advice: &str) -> Result<Option<Vec<u8>>> {
    let refuse = |reason: String| LabError::Unreadable {
        path: path.to_owned(),
        reason: format!("{reason}; {advice}"),
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // A dangling link is something in the way, not an absent file.
            return match std::fs::symlink_metadata(path) {
                Ok(_) => Err(refuse(format!(
                    "is a symbolic link to nothing, not a {what}"
                ))),
                Err(_) => Ok(None),
            };
        }
        Err(e) => return Err(refuse(format!("cannot be examined: {e}"))),
    };
    if !meta.is_file() {
        return Err(refuse(format!("is {}, not a {what} file", kind(&meta))));
    }
    if meta.len() > limit {
        return Err(refuse(format!(
            "is {} bytes long, more than a {what} of this run can be ({limit} bytes)",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes));
    match read {
        Ok(n) if n as u64 > limit => Err(refuse(format!(
            "grew beyond {limit} bytes while it was read"
        ))),
        Ok(_) => Ok(Some(bytes)),
        Err(e) => Err(refuse(format!("cannot be read: {e}"))),
    }
}

/// What a file system entry is, in words ("a file", "a folder", "a FIFO (named pipe)", ...).
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        return "a file";
    }
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    special_kind(&t)
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}
