//! The hardware an experiment runs on: a device-models file or an inline description.

use crate::error::{LabError, Result};
use crossbar::Hardware;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::Path;

/// `hardware: "device-models/x.ron"` or `hardware: Hardware(device: ...)`; files are read when the
/// experiment loads, so a resolved experiment always holds the description inline.
#[derive(Clone, Debug, PartialEq)]
pub enum HardwareSource {
    /// A path, relative to the experiment file's folder (then to the working directory).
    File(String),
    /// The description itself.
    Inline(Box<Hardware>),
}

impl Default for HardwareSource {
    fn default() -> Self {
        HardwareSource::Inline(Box::new(Hardware::ideal()))
    }
}

impl HardwareSource {
    /// The description, or None for a file reference not yet [`resolve`]d.
    pub fn spec(&self) -> Option<&Hardware> {
        match self {
            HardwareSource::Inline(h) => Some(h),
            HardwareSource::File(_) => None,
        }
    }
}

impl Serialize for HardwareSource {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            HardwareSource::File(path) => s.serialize_str(path),
            HardwareSource::Inline(h) => h.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HardwareSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = HardwareSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a device-models file path or an inline Hardware(...) description")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<HardwareSource, E> {
                Ok(HardwareSource::File(v.to_owned()))
            }
            // `Hardware()` (nothing given) reads as an empty tuple: every section ideal.
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<HardwareSource, A::Error> {
                match seq.next_element::<de::IgnoredAny>()? {
                    None => Ok(HardwareSource::Inline(Box::new(Hardware::ideal()))),
                    Some(_) => Err(de::Error::custom(
                        "a Hardware(...) description takes named sections, e.g. Hardware(device: ...)",
                    )),
                }
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<HardwareSource, E> {
                Ok(HardwareSource::Inline(Box::new(Hardware::ideal())))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<HardwareSource, A::Error> {
                let h = Hardware::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(HardwareSource::Inline(Box::new(h)))
            }
        }
        d.deserialize_any(Either)
    }
}

/// Read a hardware description file.
pub fn load_file(path: &Path) -> Result<Hardware> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parse a hardware description; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Hardware> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str::<Hardware>(text)
        .map_err(|e| LabError::Parse {
            path: path.to_owned(),
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
        })
}

/// Replace a file reference by the description it holds; relative paths are tried against the
/// experiment's folder first, then the working directory.
pub fn resolve(source: &mut HardwareSource, experiment: &Path) -> Result<()> {
    if let HardwareSource::File(name) = source {
        let beside = experiment.parent().unwrap_or(Path::new(".")).join(&*name);
        let path = if beside.exists() || Path::new(name.as_str()).is_absolute() {
            beside
        } else if Path::new(name.as_str()).exists() {
            Path::new(name.as_str()).to_owned()
        } else {
            beside
        };
        *source = HardwareSource::Inline(Box::new(load_file(&path)?));
    }
    Ok(())
}
