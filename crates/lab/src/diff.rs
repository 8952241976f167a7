//! The first difference between two serialised values, as a field path and both values, for
//! messages such as `algorithm.alpha: 0.5 in the folder, 0.25 in the file`.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The first field (in key order) where `folder` and `file` differ, or None when they are equal.
pub fn first(folder: &Value, file: &Value) -> Option<String> {
    walk("", folder, file)
}

fn join(path: &str, key: &str) -> String {
    let key = if key.contains('.') {
        format!("[{key}]")
    } else {
        key.to_owned()
    };
    match (path.is_empty(), key.starts_with('[')) {
        (true, _) => key,
        (false, true) => format!("{path}{key}"),
        (false, false) => format!("{path}.{key}"),
    }
}

/// An externally tagged enum variant, `{"SoftBounds": {...}}`: its name and content.
fn variant(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    let (name, content) = map.iter().next()?;
    (map.len() == 1 && name.starts_with(|c: char| c.is_ascii_uppercase()))
        .then_some((name, content))
}

fn differ(path: &str, folder: &str, file: &str) -> Option<String> {
    let path = if path.is_empty() { "(top level)" } else { path };
    Some(format!(
        "{path}: {folder} in the folder, {file} in the file"
    ))
}

fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if let (Some((va, ca)), Some((vb, cb))) = (variant(x), variant(y)) {
                return if va == vb {
                    walk(path, ca, cb)
                } else {
                    differ(path, va, vb)
                };
            }
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let here = join(path, k);
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => walk(&here, u, v),
                    (u, v) => differ(&here, &show_opt(u), &show_opt(v)),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| walk(&format!("{path}[{i}]"), u, v)),
        _ => differ(path, &show(a), &show(b)),
    }
}

fn show_opt(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".into(), show)
}

/// A value as a person would write it: numbers stored as f32 without the digits of their f64
/// widening (0.1, not 0.10000000149011612), long values shortened.
fn show(v: &Value) -> String {
    let text = match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f64::from(f as f32) == f => {
                (f as f32).to_string()
            }
            _ => n.to_string(),
        },
        Value::Null => "none".into(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        let short: String = text.chars().take(77).collect();
        format!("{short}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_first_differing_field_with_both_values() {
        let folder = json!({"algorithm": {"alpha": 0.5f32, "beta": 1.0}, "seed": 3});
        let file = json!({"algorithm": {"alpha": 0.25f32, "beta": 1.0}, "seed": 4});
        assert_eq!(
            first(&folder, &file).as_deref(),
            Some("algorithm.alpha: 0.5 in the folder, 0.25 in the file")
        );
    }

    #[test]
    fn shows_f32_values_without_widening_digits() {
        let (a, b) = (json!({"x": 0.1f32}), json!({"x": 0.2f32}));
        assert_eq!(
            first(&a, &b).as_deref(),
            Some("x: 0.1 in the folder, 0.2 in the file")
        );
    }

    #[test]
    fn passes_through_enum_variants_and_indexes_lists() {
        let a = json!({"device": {"SoftBounds": {"dw_min": 0.1}}, "layers": [64, 10]});
        let b = json!({"device": {"SoftBounds": {"dw_min": 0.1}}, "layers": [64, 12]});
        assert_eq!(
            first(&a, &b).as_deref(),
            Some("layers[1]: 10 in the folder, 12 in the file")
        );
        let c = json!({"device": {"ConstantStep": {"dw_min": 0.1}}, "layers": [64, 10]});
        assert_eq!(
            first(&a, &c).as_deref(),
            Some("device: SoftBounds in the folder, ConstantStep in the file")
        );
        assert_eq!(first(&a, &a), None);
    }
}
