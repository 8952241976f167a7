//! Sweep axes: a field path and the values it takes; the grid is their Cartesian product.
//!
//! A path addresses any numeric, boolean or enum field of the resolved experiment, e.g.
//! `algorithm.alpha` or `hardware.device.dw_min_std`; it passes through enum variants (a device
//! `SoftBounds((...))` is addressed as `hardware.device.<field>`). Points are applied to the
//! experiment's serialised form and deserialised again, so a wrong type is caught by the same
//! rules as the file, and every point is validated before anything runs.

use crate::spec::Experiment;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One swept field and its values, in the order the file lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted field path, e.g. `algorithm.alpha`.
    pub path: String,
    /// The values, as written.
    pub values: Vec<Value>,
}

/// The sweep axes of an experiment, in file order (the last axis varies fastest).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sweep(pub Vec<Axis>);

impl Sweep {
    /// Number of grid points (1 when nothing is swept).
    pub fn len(&self) -> usize {
        self.0.iter().map(|a| a.values.len()).product()
    }

    /// True when nothing is swept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The axis paths.
    pub fn paths(&self) -> Vec<String> {
        self.0.iter().map(|a| a.path.clone()).collect()
    }

    /// The parameter values of grid point `index` (row-major, last axis fastest).
    pub fn params(&self, mut index: usize) -> BTreeMap<String, Value> {
        let mut params = BTreeMap::new();
        for axis in self.0.iter().rev() {
            let n = axis.values.len();
            params.insert(axis.path.clone(), axis.values[index % n].clone());
            index /= n;
        }
        params
    }
}

impl Serialize for Sweep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for axis in &self.0 {
            map.serialize_entry(&axis.path, &axis.values)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Sweep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Sweep;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from field paths to lists of values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sweep, A::Error> {
                let mut axes: Vec<Axis> = Vec::new();
                while let Some((path, values)) = map.next_entry::<String, Vec<Value>>()? {
                    if axes.iter().any(|a| a.path == path) {
                        return Err(serde::de::Error::custom(format!(
                            "sweep axis {path:?} is listed twice"
                        )));
                    }
                    if values.is_empty() {
                        return Err(serde::de::Error::custom(format!(
                            "sweep axis {path:?} has no values"
                        )));
                    }
                    axes.push(Axis { path, values });
                }
                Ok(Sweep(axes))
            }
        }
        d.deserialize_map(Ordered)
    }
}

/// The `algorithm_presets` entry a value of the `"algorithm"` axis names, as a tree.
fn algorithm_preset(exp: &Experiment, name: &str) -> Result<Value, String> {
    match exp.algorithm_presets.get(name) {
        Some(a) => serde_json::to_value(a).map_err(|e| e.to_string()),
        None => {
            let known: Vec<&str> = exp.algorithm_presets.keys().map(String::as_str).collect();
            Err(format!(
                "sweep path \"algorithm\": {name:?} names no algorithm_presets entry; expected one of {}",
                if known.is_empty() {
                    "(none: add algorithm_presets)".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        }
    }
}

/// Fields that define the grid itself and cannot be swept.
const FIXED: [&str; 4] = ["name", "sweep", "seeds", "seed"];

/// The experiment with `params` applied, or a message naming the path and the problem.
pub fn apply(exp: &Experiment, params: &BTreeMap<String, Value>) -> Result<Experiment, String> {
    let mut tree = serde_json::to_value(exp).map_err(|e| e.to_string())?;
    for (path, value) in params {
        let value = match (path.as_str(), value) {
            ("algorithm", Value::String(name)) => algorithm_preset(exp, name)?,
            _ => value.clone(),
        };
        set(&mut tree, path, value)?;
    }
    let mut point: Experiment = serde_json::from_value(tree).map_err(|e| {
        let shown: Vec<String> = params.iter().map(|(p, v)| format!("{p} = {v}")).collect();
        format!(
            "sweep values {} do not fit the experiment: {e}",
            shown.join(", ")
        )
    })?;
    point.sweep = Sweep::default();
    point.source = exp.source.clone();
    Ok(point)
}

fn set(tree: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("sweep path {path:?} is malformed"));
    }
    if FIXED.contains(&parts[0]) {
        return Err(format!("sweep path {path:?}: {} cannot be swept", parts[0]));
    }
    let mut node = tree;
    for (i, part) in parts.iter().enumerate() {
        node = descend_variant(node);
        let here = parts[..i].join(".");
        let Value::Object(map) = node else {
            let what = if node.is_null() {
                "is not set (None)"
            } else {
                "has no fields"
            };
            return Err(format!(
                "unknown sweep path {path:?}: {} {what}",
                if here.is_empty() {
                    "the experiment"
                } else {
                    &here
                }
            ));
        };
        if !map.contains_key(*part) {
            let mut known: Vec<&String> = map.keys().collect();
            known.sort();
            let known: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
            return Err(format!(
                "unknown sweep path {path:?}: no field {part:?}{}; expected one of {}",
                if here.is_empty() {
                    String::new()
                } else {
                    format!(" in {here}")
                },
                known.join(", ")
            ));
        }
        if i + 1 == parts.len() {
            let slot = map.get_mut(*part).expect("checked above");
            // The whole hardware may be swept by file name: `"hardware": ["../device-models/a.ron", ...]`,
            // the whole algorithm by an `algorithm_presets` name (resolved by `apply`).
            let hardware_file = path == "hardware" && value.is_string();
            let algorithm = path == "algorithm" && value.is_object();
            if (slot.is_object() || slot.is_array()) && !hardware_file && !algorithm {
                return Err(format!(
                    "sweep path {path:?} names a section, not a number, flag or enum"
                ));
            }
            *slot = value;
            return Ok(());
        }
        node = map.get_mut(*part).expect("checked above");
    }
    Ok(())
}

/// Step through an externally tagged enum variant (`{"SoftBounds": {...}}`) to its fields.
pub(crate) fn descend_variant(node: &mut Value) -> &mut Value {
    let is_variant = matches!(node, Value::Object(m) if m.len() == 1
        && m.keys().next().is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
        && m.values().next().is_some_and(Value::is_object));
    if is_variant {
        let Value::Object(m) = node else {
            unreachable!("checked above")
        };
        return m.values_mut().next().expect("one entry");
    }
    node
}
