//! The IDX file format of MNIST and Fashion-MNIST, plain or gzipped.
//!
//! An IDX file is a 4-byte magic number `0x00 0x00 <type> <rank>`, then `rank` big-endian u32
//! dimensions, then the values in row-major order. Only unsigned bytes (type `0x08`) are read,
//! which is what every MNIST-style file holds. A file is gzipped when it starts with the gzip magic
//! `1f 8b`, whatever its name.

use crate::error::{DataError, Result};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::io::{Read, Write};
use std::path::Path;

/// Type byte of unsigned 8-bit values.
const UBYTE: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Largest decoded size of a gzipped IDX file, in bytes (1 GiB).
///
/// The biggest MNIST-style file in use, EMNIST ByClass's training images (697 932 × 28 × 28 bytes
/// ≈ 547 MB, Cohen et al. 2017), fits; a gzip bomb (a few kilobytes that decode to gigabytes)
/// becomes a data error instead of exhausting memory.
pub const MAX_DECODED_BYTES: u64 = 1 << 30;

/// An IDX array of unsigned bytes: its dimensions and its values in row-major order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    dims: Vec<usize>,
    // The whole decoded file: slicing past the header avoids copying tens of megabytes.
    bytes: Vec<u8>,
    offset: usize,
}

impl IdxArray {
    /// The dimensions, outermost first (for images: count, rows, columns).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The values, row-major (for images: one image after the other, each row by row).
    pub fn data(&self) -> &[u8] {
        &self.bytes[self.offset..]
    }
}

fn data_error(path: &Path, message: String) -> DataError {
    DataError::Data {
        path: path.to_owned(),
        message,
    }
}

/// Read the IDX file at `path`, gunzipping it first when it is gzipped.
pub fn read(path: &Path) -> Result<IdxArray> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode(raw, path)
}

/// Decode the raw content of an IDX file, gunzipping it first when it is gzipped (at most
/// [`MAX_DECODED_BYTES`]); `path` names the file in errors.
pub fn decode(raw: Vec<u8>, path: &Path) -> Result<IdxArray> {
    decode_with_limit(raw, path, MAX_DECODED_BYTES)
}

fn decode_with_limit(raw: Vec<u8>, path: &Path, limit: u64) -> Result<IdxArray> {
    let bytes = if raw.starts_with(&GZIP_MAGIC) {
        gunzip(&raw, path, limit)?
    } else {
        raw
    };
    parse(bytes, path)
}

/// Decode a whole gzip stream in one go, refusing one that decodes to more than `limit` bytes.
fn gunzip(raw: &[u8], path: &Path, limit: u64) -> Result<Vec<u8>> {
    // The trailer holds the decoded size mod 2³², which is exact for any IDX file that fits in
    // memory; reserving it up front avoids repeated regrowth of a 47 MB buffer. The cap keeps a
    // corrupt trailer from reserving more than a plausible amount.
    let hint = raw
        .get(raw.len().saturating_sub(4)..)
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
        .min(raw.len().saturating_mul(1032))
        .min(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(hint);
    // One byte past the limit tells a stream that ends exactly at it from one that goes on.
    MultiGzDecoder::new(raw)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            data_error(
                path,
                format!("is a truncated or corrupt gzip stream ({e}); download the file again"),
            )
        })?;
    if out.len() as u64 > limit {
        return Err(data_error(
            path,
            format!(
                "decompresses to more than {limit} bytes, the limit for an IDX file: not an MNIST-style file (a gzip bomb?)"
            ),
        ));
    }
    Ok(out)
}

/// Parse decoded IDX bytes; `path` names the file in errors.
pub fn parse(bytes: Vec<u8>, path: &Path) -> Result<IdxArray> {
    let fail = |message: String| Err(data_error(path, message));
    let Some(&[z0, z1, kind, rank]) = bytes.first_chunk::<4>() else {
        return fail(format!(
            "truncated: an IDX file starts with a 4-byte magic number, found only {} bytes",
            bytes.len()
        ));
    };
    if z0 != 0 || z1 != 0 || rank == 0 {
        return fail(format!(
            "wrong magic number: expected 00 00 08 <rank ≥ 1> (an IDX file), found {z0:02x} {z1:02x} {kind:02x} {rank:02x}"
        ));
    }
    if kind != UBYTE {
        return fail(format!(
            "unsupported IDX value type 0x{kind:02x}: expected unsigned bytes (0x08), as in MNIST"
        ));
    }
    let offset = 4 + 4 * rank as usize;
    let Some(header) = bytes.get(4..offset) else {
        return fail(format!(
            "truncated: the header announces {rank} dimensions ({offset} header bytes), the file holds {} bytes",
            bytes.len()
        ));
    };
    let dims: Vec<usize> = header
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let shape = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×");
    let Some(expected) = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
        return fail(format!(
            "dimensions {shape} are too large to hold in memory"
        ));
    };
    let found = bytes.len() - offset;
    if found < expected {
        return fail(format!(
            "truncated: the header announces {shape} = {expected} bytes of data, the file holds {found}"
        ));
    }
    if found > expected {
        return fail(format!(
            "the header announces {shape} = {expected} bytes of data, but the file holds {found} (extra bytes after the data)"
        ));
    }
    Ok(IdxArray {
        dims,
        bytes,
        offset,
    })
}

/// Write `data` (row-major, unsigned bytes) with dimensions `dims` as an IDX file at `path`,
/// gzipped when `gzip` is true. Handy to turn other data into MNIST-style files, and used by the
/// tests to write small files.
pub fn write(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> Result<()> {
    let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if dims.is_empty() || dims.len() > 255 || count != Some(data.len()) {
        return Err(data_error(
            path,
            format!(
                "cannot write IDX: expected 1 to 255 dimensions whose product is the {} values, got {dims:?}",
                data.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    bytes.extend_from_slice(&[0, 0, UBYTE, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            data_error(
                path,
                format!("cannot write IDX: dimension {d} exceeds the format's u32"),
            )
        })?;
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    let io = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    if gzip {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&bytes).map_err(io)?;
        bytes = encoder.finish().map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dyadsim-idx-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn message(result: Result<IdxArray>) -> String {
        match result {
            Err(e @ DataError::Data { .. }) => e.to_string(),
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn write_then_read_round_trips_plain_and_gzipped() {
        let dir = scratch("round-trip");
        let data: Vec<u8> = (0..2 * 3 * 5).map(|i| (i * 37 % 256) as u8).collect();
        for gzip in [false, true] {
            let path = dir.join(format!("a-{gzip}"));
            write(&path, &[2, 3, 5], &data, gzip).unwrap();
            let raw = std::fs::read(&path).unwrap();
            assert_eq!(raw.starts_with(&GZIP_MAGIC), gzip);
            let back = read(&path).unwrap();
            assert_eq!(back.dims(), &[2, 3, 5]);
            assert_eq!(back.data(), &data[..]);
        }
        let labels = [9u8, 0, 4];
        write(&dir.join("labels"), &[3], &labels, false).unwrap();
        let raw = std::fs::read(dir.join("labels")).unwrap();
        assert_eq!(raw, [0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn truncated_files_say_what_was_expected() {
        let path = Path::new("images.idx");
        let header = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 5];
        let mut short = header.clone();
        short.extend([7; 29]);
        let m = message(parse(short, path));
        assert!(m.starts_with("images.idx: truncated"), "{m}");
        assert!(
            m.contains("2×3×5 = 30 bytes") && m.contains("holds 29"),
            "{m}"
        );
        let m = message(parse(header[..9].to_vec(), path));
        assert!(m.contains("truncated") && m.contains("3 dimensions"), "{m}");
        let m = message(parse(vec![0, 0], path));
        assert!(m.contains("truncated") && m.contains("only 2 bytes"), "{m}");
        let mut long = header;
        long.extend([7; 31]);
        assert!(message(parse(long, path)).contains("extra bytes"));
    }

    #[test]
    fn a_wrong_magic_number_is_named() {
        let path = Path::new("x.idx");
        let m = message(parse(vec![0x50, 0x4b, 3, 4, 0, 0], path));
        assert!(
            m.contains("wrong magic number") && m.contains("50 4b 03 04"),
            "{m}"
        );
        let m = message(parse(vec![0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], path));
        assert!(m.contains("unsupported IDX value type 0x0d"), "{m}");
        let m = message(parse(vec![0, 0, 8, 0], path));
        assert!(m.contains("wrong magic number"), "{m}");
    }

    #[test]
    fn a_truncated_gzip_stream_is_a_data_error() {
        let dir = scratch("gz-cut");
        let path = dir.join("cut.gz");
        let data: Vec<u8> = (0..=255).cycle().take(4000).collect();
        write(&path, &[4000], &data, true).unwrap();
        let raw = std::fs::read(&path).unwrap();
        std::fs::write(&path, &raw[..raw.len() / 2]).unwrap();
        let m = message(read(&path));
        assert!(m.contains("truncated or corrupt gzip"), "{m}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_gzip_bomb_is_a_data_error_not_an_allocation() {
        // 8 MiB of zeros compress to about 8 KiB; with a 1 MiB limit the decoder must stop at
        // the limit and say why, as it does for a multi-gigabyte bomb under the real limit.
        let header = [0u8, 0, 8, 1, 0, 0x80, 0, 0];
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&header).unwrap();
        encoder.write_all(&vec![0; 8 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
        let path = Path::new("bomb.gz");
        let m = message(decode_with_limit(bomb.clone(), path, 1 << 20));
        assert!(
            m.starts_with("bomb.gz: decompresses to more than 1048576 bytes"),
            "{m}"
        );
        // The same stream is a well-formed IDX file once the limit allows its 8 MiB + 8 bytes.
        let whole = decode_with_limit(bomb, path, (8 << 20) + 8).unwrap();
        assert_eq!(whole.dims(), &[8 << 20]);
        assert_eq!(MAX_DECODED_BYTES, 1 << 30);
    }

    #[test]
    fn the_writer_rejects_inconsistent_shapes() {
        let path = std::env::temp_dir().join("dyadsim-idx-never-written");
        assert!(matches!(
            write(&path, &[2, 2], &[1, 2, 3], false),
            Err(DataError::Data { .. })
        ));
        assert!(!path.exists());
    }
}
