//! What stands at a data file's name: only a regular file (after following links) is read, so a
//! folder, a FIFO or a link to a device is reported as what it is, not as a missing file, and a
//! FIFO cannot block the loader.

use crate::error::{DataError, Result};
use std::io::ErrorKind;
use std::path::Path;

/// Whether a regular file stands at `path` (`false`: nothing does); anything else is
/// [`DataError::Data`] naming the file and what it is, with `hint` appended.
pub(crate) fn is_regular(path: &Path, hint: &str) -> Result<bool> {
    let refuse = |what: String| DataError::Data {
        path: path.to_owned(),
        message: format!("{what}; {hint}"),
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(refuse(format!("is {}, not a regular file", kind(&meta)))),
        Err(e) if e.kind() == ErrorKind::NotFound => match std::fs::symlink_metadata(path) {
            // A dangling link is something in the way, not an absent file.
            Ok(_) => Err(refuse(
                "is a symbolic link to nothing, not a regular file".into(),
            )),
            Err(_) => Ok(false),
        },
        Err(e) => Err(refuse(format!("cannot be examined: {e}"))),
    }
}

/// What a file system entry is, in words ("a folder", "a FIFO (named pipe)", "a device", ...).
fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a file"
    } else if t.is_dir() {
        "a folder"
    } else {
        special_kind(&t)
    }
}

#[cfg(unix)]
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something other than a file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "something other than a file"
}
