//! The hardware an experiment runs on: a device-models file or an inline description.

use crate::error::{LabError, Result};
use crate::spec::Experiment;
use crossbar::Hardware;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

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
    let text = crate::error::read_input(path)?;
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

/// Where a hardware file named in an experiment is: relative paths are tried against the
/// experiment's folder first, then the working directory.
fn locate(name: &str, experiment: &Path) -> PathBuf {
    let beside = experiment.parent().unwrap_or(Path::new(".")).join(name);
    if beside.exists() || Path::new(name).is_absolute() || !Path::new(name).exists() {
        beside
    } else {
        Path::new(name).to_owned()
    }
}

/// Replace a file reference by the description it holds; relative paths are tried against the
/// experiment's folder first, then the working directory.
pub fn resolve(source: &mut HardwareSource, experiment: &Path) -> Result<()> {
    resolve_with(source, &BTreeMap::new(), experiment)
}

/// Replace a reference by the description it names: a preset of `presets`, else a file.
pub fn resolve_with(
    source: &mut HardwareSource,
    presets: &BTreeMap<String, Hardware>,
    experiment: &Path,
) -> Result<()> {
    if let HardwareSource::File(name) = source {
        let hardware = match presets.get(name.as_str()) {
            Some(preset) => preset.clone(),
            None => load_file(&locate(name, experiment))?,
        };
        *source = HardwareSource::Inline(Box::new(hardware));
    }
    Ok(())
}

/// Carry the hardware a `"hardware"` sweep axis names inside the experiment: every file the axis
/// lists is read into `hardware_presets` under its file stem, and the axis then lists the stems.
/// Returns (field, message) when two different files share a stem or a preset is never used.
pub fn inline_sweep(exp: &mut Experiment, path: &Path) -> Result<Option<(String, String)>> {
    let Some(axis) = exp.sweep.0.iter_mut().find(|a| a.path == "hardware") else {
        return Ok(exp
            .hardware_presets
            .keys()
            .next()
            .map(|name| unused_preset(name)));
    };
    let mut from_file: BTreeMap<String, String> = BTreeMap::new();
    for value in &mut axis.values {
        let Value::String(name) = value else {
            continue;
        };
        if exp.hardware_presets.contains_key(name.as_str()) {
            continue;
        }
        let file = locate(name, path);
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(name.as_str())
            .to_owned();
        let hardware = load_file(&file)?;
        match exp.hardware_presets.get(&stem) {
            Some(known) if *known != hardware => {
                return Ok(Some((
                    "sweep".into(),
                    format!(
                        "hardware files {:?} and {name:?} are both named {stem:?} but differ; rename one of them",
                        from_file
                            .get(&stem)
                            .map_or("(a hardware_presets entry)", String::as_str)
                    ),
                )));
            }
            _ => {}
        }
        exp.hardware_presets.insert(stem.clone(), hardware);
        from_file.insert(stem.clone(), name.clone());
        *value = Value::String(stem);
    }
    let named: Vec<&str> = axis.values.iter().filter_map(Value::as_str).collect();
    Ok(exp
        .hardware_presets
        .keys()
        .find(|k| !named.contains(&k.as_str()))
        .map(|name| unused_preset(name)))
}

fn unused_preset(name: &str) -> (String, String) {
    (
        format!("hardware_presets.{name}"),
        "is named by no value of a \"hardware\" sweep axis, so it would silently do nothing; remove it or list it in the axis".into(),
    )
}
