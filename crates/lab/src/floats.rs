//! Floats in the JSON files dyadsim writes and reads back: run records, checkpoint metrics,
//! goldens and summary.json.
//!
//! JSON has no NaN or infinity, and serde_json writes them as `null`, which it then refuses to
//! read as a number: a run whose untrained loss overflows, or whose cost totals overflow, left a
//! record that no later command could read. Here a finite value is written exactly as serde_json
//! writes an `f64` (so every existing file reads and compares as before), and a non-finite one as
//! the string `"NaN"`, `"inf"` or `"-inf"`, the spellings metrics.csv uses. Reading accepts both,
//! and `null`, which dyadsim wrote for any non-finite value before, reads as NaN.
//!
//! Use it on a field with `#[serde(with = "crate::floats")]`, on a map of metrics with
//! `#[serde(with = "crate::floats::map")]`, and for a value built by hand with [`to_json`].

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The string a non-finite value is written as: `NaN`, `inf` or `-inf`; `None` for a finite one.
pub fn name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// `v` as a JSON value: a number when finite, otherwise its [`name`] as a string.
pub fn to_json(v: f64) -> serde_json::Value {
    match name(v) {
        Some(n) => serde_json::Value::from(n),
        None => serde_json::Value::from(v),
    }
}

/// Write `v` as a number, or a non-finite one as its [`name`].
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    match name(*v) {
        Some(n) => s.serialize_str(n),
        None => s.serialize_f64(*v),
    }
}

/// Read a number, `"NaN"`, `"inf"`, `"-inf"`, or `null` (as NaN).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    d.deserialize_any(FloatVisitor)
}

struct FloatVisitor;

impl<'de> Visitor<'de> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "NaN" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    // Records written before non-finite values had a spelling hold `null` for any of them.
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }

    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
    }
}

/// One float written and read as this module does, for use inside containers.
#[derive(Clone, Copy, Debug)]
struct Float(f64);

impl Serialize for Float {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Float)
    }
}

/// A map of metrics by name, its values written and read as the module does.
pub mod map {
    use super::Float;
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    /// Write every value as a number, or a non-finite one as its name.
    pub fn serialize<S: Serializer>(m: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(m.len()))?;
        for (k, v) in m {
            out.serialize_entry(k, &Float(*v))?;
        }
        out.end()
    }

    /// Read every value as [`super::deserialize`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let m = BTreeMap::<String, Float>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct One(#[serde(with = "super")] f64);

    #[test]
    fn finite_values_are_written_as_serde_json_writes_them() {
        for v in [
            0.0,
            -0.0,
            0.1,
            1.0,
            1e300,
            -2.5e-310,
            f64::MAX,
            f64::from(0.7f32),
        ] {
            assert_eq!(
                serde_json::to_string(&One(v)).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }

    #[test]
    fn non_finite_values_are_named_and_null_reads_as_nan() {
        for (v, text) in [
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"inf\""),
            (f64::NEG_INFINITY, "\"-inf\""),
        ] {
            assert_eq!(serde_json::to_string(&One(v)).unwrap(), text);
            assert_eq!(to_json(v).to_string(), text);
            let back: One = serde_json::from_str(text).unwrap();
            assert_eq!(back.0.is_nan(), v.is_nan());
            assert!(back.0.is_nan() || back.0 == v);
        }
        assert!(serde_json::from_str::<One>("null").unwrap().0.is_nan());
        assert_eq!(serde_json::from_str::<One>("3").unwrap().0, 3.0);
        assert_eq!(serde_json::from_str::<One>("-3").unwrap().0, -3.0);
        let err = serde_json::from_str::<One>("\"Infinity\"").unwrap_err();
        assert!(
            err.to_string().contains("\"NaN\", \"inf\" or \"-inf\""),
            "{err}"
        );
    }
}
