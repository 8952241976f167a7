//! A byte format for the state that training changes (weights, optimiser moments, the positions of
//! random streams, counters), so that a run can be stopped between epochs and continued bit for bit
//! by a process that rebuilt everything else from the same description and seed.
//!
//! Values are written in a fixed order, little-endian, with no self-description beyond section
//! tags: reader and writer are the same code walking the same structures. Every read checks that
//! the bytes are there and that shapes agree with the structure being restored, so a truncated or
//! foreign snapshot is an error naming the byte offset, never a panic or a silently wrong state.

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

/// A snapshot that cannot be restored: truncated, from another structure, or corrupt.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("at byte {offset}: {message}")]
pub struct SnapshotError {
    /// Offset of the value that failed to read.
    pub offset: usize,
    /// What was expected there.
    pub message: String,
}

/// Appends values to a snapshot.
#[derive(Clone, Debug, Default)]
pub struct SnapshotWriter {
    bytes: Vec<u8>,
}

impl SnapshotWriter {
    /// An empty snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// A section name, checked on reading so that a reader out of step with the writer stops at
    /// the first section rather than reinterpreting floats as lengths.
    pub fn tag(&mut self, name: &str) {
        self.bytes(name.as_bytes());
    }

    /// An unsigned integer.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A flag.
    pub fn bool(&mut self, v: bool) {
        self.bytes.push(u8::from(v));
    }

    /// A single-precision float, bit for bit.
    pub fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A double-precision float, bit for bit.
    pub fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.bytes.extend_from_slice(v);
    }

    /// A length-prefixed run of floats.
    pub fn f32s(&mut self, v: &[f32]) {
        self.u64(v.len() as u64);
        self.bytes.reserve(4 * v.len());
        for x in v {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
    }

    /// A matrix: its shape, then its entries in column-major order.
    pub fn matrix(&mut self, m: &DMatrix<f32>) {
        self.u64(m.nrows() as u64);
        self.f32s(m.as_slice());
    }

    /// A vector.
    pub fn vector(&mut self, v: &DVector<f32>) {
        self.f32s(v.as_slice());
    }

    /// A ChaCha8 stream: its key, its stream number and its position.
    pub fn rng(&mut self, rng: &ChaCha8Rng) {
        self.bytes.extend_from_slice(&rng.get_seed());
        self.u64(rng.get_stream());
        self.bytes
            .extend_from_slice(&rng.get_word_pos().to_le_bytes());
    }
}

/// Reads a snapshot back in the order it was written.
#[derive(Clone, Debug)]
pub struct SnapshotReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> SnapshotReader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The error of the value at the current offset.
    pub fn error(&self, message: impl Into<String>) -> SnapshotError {
        SnapshotError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SnapshotError> {
        let rest = self.bytes.len() - self.pos;
        if n > rest {
            return Err(self.error(format!(
                "{what} needs {n} bytes but the snapshot ends after {rest}"
            )));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], SnapshotError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// Check that the next value is the section tag `name`.
    pub fn tag(&mut self, name: &str) -> Result<(), SnapshotError> {
        let at = self.pos;
        let found = self.bytes_value()?;
        if found != name.as_bytes() {
            return Err(SnapshotError {
                offset: at,
                message: format!(
                    "expected section {name:?}, found {:?}",
                    String::from_utf8_lossy(&found[..found.len().min(40)])
                ),
            });
        }
        Ok(())
    }

    /// An unsigned integer.
    pub fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.array("an integer")?))
    }

    /// An integer that must fit a `usize`.
    pub fn usize(&mut self) -> Result<usize, SnapshotError> {
        let at = self.pos;
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| SnapshotError {
            offset: at,
            message: format!("{v} does not fit this machine's address space"),
        })
    }

    /// A flag.
    pub fn bool(&mut self) -> Result<bool, SnapshotError> {
        match self.array::<1>("a flag")?[0] {
            0 => Ok(false),
            1 => Ok(true),
            other => {
                self.pos -= 1;
                Err(self.error(format!("a flag must be 0 or 1 (got {other})")))
            }
        }
    }

    /// A single-precision float.
    pub fn f32(&mut self) -> Result<f32, SnapshotError> {
        Ok(f32::from_le_bytes(self.array("a float")?))
    }

    /// A double-precision float.
    pub fn f64(&mut self) -> Result<f64, SnapshotError> {
        Ok(f64::from_le_bytes(self.array("a float")?))
    }

    /// A length-prefixed byte string.
    pub fn bytes_value(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.usize()?;
        self.take(n, "a byte string")
    }

    /// A run of floats written by [`SnapshotWriter::f32s`], of any length.
    pub fn f32s(&mut self) -> Result<Vec<f32>, SnapshotError> {
        let n = self.usize()?;
        let raw = self.take(n.saturating_mul(4), "a run of floats")?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// A run of floats into `out`, which must have the written length.
    pub fn f32s_into(&mut self, out: &mut [f32], what: &str) -> Result<(), SnapshotError> {
        let at = self.pos;
        let n = self.usize()?;
        if n != out.len() {
            return Err(SnapshotError {
                offset: at,
                message: format!("{what} holds {n} values where {} are expected", out.len()),
            });
        }
        let raw = self.take(4 * n, what)?;
        for (o, c) in out.iter_mut().zip(raw.chunks_exact(4)) {
            *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok(())
    }

    /// A matrix of any shape.
    pub fn matrix(&mut self) -> Result<DMatrix<f32>, SnapshotError> {
        let at = self.pos;
        let rows = self.usize()?;
        let data = self.f32s()?;
        if (rows == 0 && !data.is_empty()) || (rows > 0 && data.len() % rows != 0) {
            return Err(SnapshotError {
                offset: at,
                message: format!("{} values do not fill {rows} rows", data.len()),
            });
        }
        let cols = data.len().checked_div(rows).unwrap_or(0);
        Ok(DMatrix::from_vec(rows, cols, data))
    }

    /// A matrix into `out`, which must have the written shape.
    pub fn matrix_into(&mut self, out: &mut DMatrix<f32>, what: &str) -> Result<(), SnapshotError> {
        let at = self.pos;
        let rows = self.usize()?;
        if rows != out.nrows() {
            return Err(SnapshotError {
                offset: at,
                message: format!("{what} has {rows} rows where {} are expected", out.nrows()),
            });
        }
        self.f32s_into(out.as_mut_slice(), what)
    }

    /// A vector into `out`, which must have the written length.
    pub fn vector_into(&mut self, out: &mut DVector<f32>, what: &str) -> Result<(), SnapshotError> {
        self.f32s_into(out.as_mut_slice(), what)
    }

    /// A ChaCha8 stream at the position it was written at.
    pub fn rng(&mut self) -> Result<ChaCha8Rng, SnapshotError> {
        let seed = self.array::<32>("a random stream's key")?;
        let stream = self.u64()?;
        let pos = u128::from_le_bytes(self.array("a random stream's position")?);
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(stream);
        rng.set_word_pos(pos);
        Ok(rng)
    }

    /// Check that every byte was read.
    pub fn finish(&self) -> Result<(), SnapshotError> {
        let rest = self.bytes.len() - self.pos;
        if rest > 0 {
            return Err(self.error(format!("{rest} bytes follow the end of the state")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn values_come_back_bit_for_bit_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        rng.set_stream(3);
        let _: [u64; 5] = rng.random();
        let m = DMatrix::from_fn(3, 2, |i, j| (i as f32 - j as f32) / 3.0);
        let mut w = SnapshotWriter::new();
        w.tag("head");
        w.u64(u64::MAX);
        w.bool(true);
        w.f32(-0.0);
        w.f64(f64::NAN);
        w.matrix(&m);
        w.vector(&DVector::from_vec(vec![1.5, f32::INFINITY]));
        w.rng(&rng);
        let bytes = w.into_bytes();
        let mut r = SnapshotReader::new(&bytes);
        r.tag("head").unwrap();
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert!(r.bool().unwrap());
        assert_eq!(r.f32().unwrap().to_bits(), (-0.0f32).to_bits());
        assert!(r.f64().unwrap().is_nan());
        let mut back = DMatrix::zeros(3, 2);
        r.matrix_into(&mut back, "m").unwrap();
        assert_eq!(back, m);
        let mut v = DVector::zeros(2);
        r.vector_into(&mut v, "v").unwrap();
        assert_eq!(v.as_slice(), &[1.5, f32::INFINITY]);
        let mut again = r.rng().unwrap();
        r.finish().unwrap();
        // The restored stream continues exactly where the original stands.
        let next: [u32; 7] = rng.random();
        assert_eq!(again.random::<[u32; 7]>(), next);
    }

    #[test]
    fn truncated_foreign_and_misshapen_snapshots_are_errors() {
        let mut w = SnapshotWriter::new();
        w.tag("weights");
        w.matrix(&DMatrix::zeros(2, 3));
        let bytes = w.into_bytes();
        let mut r = SnapshotReader::new(&bytes);
        let e = r.tag("optimizer").unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.message.contains("expected section \"optimizer\""), "{e}");
        let mut r = SnapshotReader::new(&bytes);
        r.tag("weights").unwrap();
        let mut wrong = DMatrix::zeros(3, 2);
        assert!(
            r.matrix_into(&mut wrong, "W")
                .unwrap_err()
                .message
                .contains("2 rows where 3")
        );
        let mut r = SnapshotReader::new(&bytes[..bytes.len() - 1]);
        r.tag("weights").unwrap();
        let mut right = DMatrix::zeros(2, 3);
        let e = r.matrix_into(&mut right, "W").unwrap_err();
        assert!(e.message.contains("ends after 23"), "{e}");
        let mut r = SnapshotReader::new(&bytes);
        r.tag("weights").unwrap();
        assert!(r.finish().is_err());
        // A length beyond the bytes is refused before anything is allocated for it.
        let mut w = SnapshotWriter::new();
        w.u64(u64::MAX / 2);
        let bytes = w.into_bytes();
        assert!(SnapshotReader::new(&bytes).f32s().is_err());
    }
}
