//! How field paths, sweep values and metrics read in figures: one table for each, and the
//! experiment's `labels` overrides on top.
//!
//! Axis names carry their unit ("write noise (× dw_min)"); accuracies and other fractions are
//! shown in percent; algorithm kinds read as in the paper ("DP⊤") and hardware files by their
//! preset name ("ecram-tang2018").

use crate::spec::Experiment;
use serde_json::Value;
use std::collections::BTreeMap;

/// A field path's name in figures: the axis title (with unit) and the short form legends use
/// before `= value`.
struct Field {
    path: &'static str,
    axis: &'static str,
    short: &'static str,
}

const fn field(path: &'static str, axis: &'static str, short: &'static str) -> Field {
    Field { path, axis, short }
}

/// Every field path with a name of its own; other paths read as their last part with spaces.
/// Names follow the fields' documentation (crossbar's device and periphery specs, dualprop's
/// algorithm, the experiment's training section).
const FIELDS: &[Field] = &[
    field("algorithm", "algorithm", "algorithm"),
    field("algorithm.kind", "algorithm", "algorithm"),
    field("algorithm.alpha", "nudging asymmetry α", "α"),
    field("algorithm.beta", "nudging strength β", "β"),
    field("algorithm.passes", "settling passes", "passes"),
    field("algorithm.tolerance", "settling tolerance", "tolerance"),
    field("algorithm.alpha_mix", "mean-state mix α_mix", "α_mix"),
    field("algorithm.alpha_fb", "feedback split α_fb", "α_fb"),
    field("hardware", "hardware", "hardware"),
    field("hardware.device.dw_min", "step size dw_min", "dw_min"),
    field(
        "hardware.device.dw_min_dtod",
        "device-to-device step spread (× dw_min)",
        "step spread",
    ),
    field(
        "hardware.device.dw_min_std",
        "cycle-to-cycle step noise (× dw_min)",
        "step noise",
    ),
    field(
        "hardware.device.up_down",
        "up/down asymmetry",
        "up/down asymmetry",
    ),
    field(
        "hardware.device.write_noise_std",
        "write noise (× dw_min)",
        "write noise",
    ),
    field("hardware.device.w_max", "upper weight bound w_max", "w_max"),
    field("hardware.device.w_min", "lower weight bound w_min", "w_min"),
    field(
        "hardware.periphery.alpha_std",
        "α mismatch σ (per neuron)",
        "σ_α",
    ),
    field(
        "hardware.periphery.alpha_split_std",
        "α split mismatch σ (α_mix − α_fb)",
        "σ_split",
    ),
    field(
        "hardware.periphery.act_gain_std",
        "activation gain mismatch σ (relative)",
        "σ_gain",
    ),
    field(
        "hardware.drift.compensation",
        "drift compensation",
        "compensation",
    ),
    field("training.learning_rate", "learning rate η", "η"),
    field("training.batch_size", "batch size", "batch"),
    field("training.momentum", "momentum", "momentum"),
    field("training.weight_decay", "weight decay", "weight decay"),
    field("training.epochs", "epochs", "epochs"),
    field("network.activation", "activation", "activation"),
    field("network.loss", "loss", "loss"),
];

/// Sweep values with a name of their own: algorithm kinds as in Høier & Zach (ICML 2024).
const VALUES: &[(&str, &str, &str)] = &[
    ("algorithm.kind", "DpTop", "DP⊤"),
    ("algorithm.kind", "Dp", "DP"),
    ("algorithm.kind", "DampedDp", "damped DP"),
    ("algorithm.kind", "Backprop", "backprop"),
    (
        "algorithm.kind",
        "AdversarialBackprop",
        "adversarial backprop",
    ),
];

/// A metric's name in figures, and whether it is a fraction shown in percent.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricLabel {
    /// Name without unit, e.g. `test accuracy`.
    pub name: String,
    /// Fractions (accuracies, the diverged share) are multiplied by 100 and labelled `(%)`.
    pub percent: bool,
}

impl MetricLabel {
    /// The axis title: the name with its unit.
    pub fn axis(&self) -> String {
        if self.percent {
            format!("{} (%)", self.name)
        } else {
            self.name.clone()
        }
    }

    /// A value of the metric as shown (percent for fractions).
    pub fn scale(&self, v: f64) -> f64 {
        if self.percent { 100.0 * v } else { v }
    }
}

/// Metrics with a fixed name: (column, name, percent).
const METRICS: &[(&str, &str, bool)] = &[
    ("test_acc", "test accuracy", true),
    ("train_acc", "train accuracy", true),
    ("test_loss", "test loss", false),
    ("train_loss", "train loss", false),
    ("val_acc", "validation accuracy", true),
    ("val_loss", "validation loss", false),
    (
        "best_validation_test_acc",
        "test accuracy at the best validation epoch",
        true,
    ),
    ("diverged", "seeds diverged", true),
    ("settle_passes", "settling passes per batch", false),
    ("settle_residual", "settling residual", false),
    (
        "settle_unconverged",
        "batches whose settling did not converge",
        true,
    ),
    ("settle_time", "settling time per batch", false),
    ("pulses", "device pulses per epoch", false),
    ("energy_j", "training energy per epoch (J)", false),
    ("latency_s", "training time per epoch (s)", false),
    ("energy_read_j", "array reads", false),
    ("energy_convert_j", "DAC and ADC conversions", false),
    ("energy_write_j", "programming pulses", false),
    ("energy_neuron_j", "neuron compartments", false),
    ("energy_digital_j", "digital periphery", false),
    (
        "energy_per_sample_j",
        "training energy per sample (J)",
        false,
    ),
    (
        "latency_per_sample_s",
        "training time per sample (s)",
        false,
    ),
    ("area_mm2", "area (mm²)", false),
    ("reads", "vector reads per epoch", false),
    ("cell_ops", "cell operations per epoch", false),
    ("dac_conversions", "DAC conversions per epoch", false),
    ("adc_conversions", "ADC conversions per epoch", false),
    (
        "compartment_updates",
        "compartment updates per epoch",
        false,
    ),
    (
        "lipschitz_weight_product",
        "Lipschitz proxy ‖W_L⋯W₁‖₂",
        false,
    ),
    ("lipschitz_layer_product", "Lipschitz bound Πₖ‖Wₖ‖₂", false),
    ("lipschitz_jacobian", "largest input-Jacobian norm", false),
];

/// Metric families with a parameter in the column name: (prefix, name with `{}`, percent).
const METRIC_FAMILIES: &[(&str, &str, bool)] = &[
    ("cosine_l", "gradient cosine to backprop, layer {}", false),
    ("rel_err_l", "relative gradient error, layer {}", false),
    ("leak_l", "mean-state leak, layer {}", false),
    ("fgsm_acc_", "FGSM accuracy at ε = {}", true),
    ("pgd_acc_", "PGD accuracy at ε = {}", true),
];

fn known_metric(name: &str) -> Option<MetricLabel> {
    if let Some((_, n, p)) = METRICS.iter().find(|(m, ..)| *m == name) {
        return Some(MetricLabel {
            name: (*n).into(),
            percent: *p,
        });
    }
    METRIC_FAMILIES.iter().find_map(|(prefix, n, p)| {
        let rest = name.strip_prefix(prefix)?;
        (!rest.is_empty()).then(|| MetricLabel {
            name: n.replace("{}", rest),
            percent: *p,
        })
    })
}

/// Plain text of a sweep value: strings without quotes, numbers as written.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The names of one experiment: the tables above with its `labels` on top.
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    overrides: &'a BTreeMap<String, String>,
}

/// No overrides: the default names.
static NO_OVERRIDES: BTreeMap<String, String> = BTreeMap::new();

impl Labels<'static> {
    /// The default names, without an experiment's overrides.
    pub fn defaults() -> Self {
        Self {
            overrides: &NO_OVERRIDES,
        }
    }
}

impl<'a> Labels<'a> {
    /// The labels of `exp`.
    pub fn new(exp: &'a Experiment) -> Self {
        Self {
            overrides: &exp.labels,
        }
    }

    fn field(path: &str) -> Option<&'static Field> {
        FIELDS.iter().find(|f| f.path == path)
    }

    /// The axis title of a field path, e.g. `nudging asymmetry α`.
    pub fn axis(&self, path: &str) -> String {
        if let Some(text) = self.overrides.get(path) {
            return text.clone();
        }
        Self::field(path).map_or_else(|| fallback(path), |f| f.axis.to_owned())
    }

    /// The short name legends write before `= value`, e.g. `α`.
    fn short(&self, path: &str) -> String {
        if let Some(text) = self.overrides.get(path) {
            return text.clone();
        }
        Self::field(path).map_or_else(|| fallback(path), |f| f.short.to_owned())
    }

    /// A sweep value as shown: `DP⊤` for `DpTop`, the preset name for a hardware file.
    pub fn value(&self, path: &str, v: &Value) -> String {
        let raw = plain(v);
        if let Some(text) = self.overrides.get(&format!("{path}={raw}")) {
            return text.clone();
        }
        if let Some((.., text)) = VALUES.iter().find(|(p, r, _)| *p == path && *r == raw) {
            return (*text).into();
        }
        if path == "hardware" && v.is_string() {
            return preset_name(&raw);
        }
        raw
    }

    /// A value with its name, for legends and panel titles: `α = 0.5`, or just `DP⊤` where the
    /// value names itself (strings: algorithm kinds, presets, modes).
    pub fn setting(&self, path: &str, v: &Value) -> String {
        let value = self.value(path, v);
        if v.is_string() {
            value
        } else {
            let unit = Self::field(path)
                .and_then(|f| f.axis.rsplit_once(" ("))
                .filter(|_| !self.overrides.contains_key(path))
                .map(|(_, u)| u.trim_end_matches(')').to_owned())
                .filter(|u| u.starts_with('×'))
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            format!("{} = {value}{unit}", self.short(path))
        }
    }

    /// A metric's name and scale.
    pub fn metric(&self, name: &str) -> MetricLabel {
        let mut label = known_metric(name).unwrap_or_else(|| MetricLabel {
            name: name.replace('_', " "),
            percent: false,
        });
        if let Some(text) = self.overrides.get(name) {
            label.name = text.clone();
        }
        label
    }
}

/// The last part of a path with spaces for underscores: `hardware.io.out_noise` → `out noise`.
fn fallback(path: &str) -> String {
    path.rsplit('.').next().unwrap_or(path).replace('_', " ")
}

/// The preset name of a hardware file: `../device-models/ecram-tang2018.ron` → `ecram-tang2018`.
pub fn preset_name(file: &str) -> String {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    name.strip_suffix(".ron").unwrap_or(name).to_owned()
}

/// The first `labels` key of `exp` that names nothing, as (key, message): a key must be a sweep
/// path of the experiment, a field path of the table, a metric, or `path=value` for a sweep value.
pub fn check(exp: &Experiment) -> Result<(), (String, String)> {
    let sweep = exp.sweep.paths();
    let is_path = |p: &str| sweep.iter().any(|s| s == p) || FIELDS.iter().any(|f| f.path == p);
    for (key, text) in &exp.labels {
        if text.trim().is_empty() {
            return Err((key.clone(), "the label text is empty".into()));
        }
        let ok = match key.split_once('=') {
            Some((path, value)) => exp
                .sweep
                .0
                .iter()
                .any(|a| a.path == path && a.values.iter().any(|v| plain(v) == value)),
            None => is_path(key) || known_metric(key).is_some(),
        };
        if !ok {
            let mut known: Vec<String> = sweep.clone();
            known.extend(METRICS.iter().map(|(m, ..)| (*m).to_owned()));
            return Err((
                key.clone(),
                format!(
                    "names no field, metric or sweep value (expected a sweep path such as {}, a metric such as {}, or \"path=value\")",
                    known.first().map_or("algorithm.alpha", String::as_str),
                    "test_acc",
                ),
            ));
        }
    }
    Ok(())
}

/// Line and column of the `labels` key `key` in the experiment text, if written there.
pub fn locate_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let start = text.find("labels")?;
    let at = start + text[start..].find(&format!("\"{key}\""))?;
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, col))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exp(labels: &[(&str, &str)]) -> Experiment {
        let text = r#"Experiment(name: "t", network: (layers: [64, 10]), algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 2),
            training: (epochs: 1, batch_size: 8, learning_rate: 0.1),
            sweep: {"algorithm.alpha": [0.0, 1.0], "algorithm.kind": ["Dp", "DpTop"]})"#;
        let mut e = crate::load::experiment_from_str(text, std::path::Path::new("t.ron"))
            .expect("test experiment");
        e.labels = labels
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        e
    }

    #[test]
    fn fields_values_and_metrics_read_as_humans_write_them() {
        let e = exp(&[]);
        let l = Labels::new(&e);
        assert_eq!(l.axis("algorithm.alpha"), "nudging asymmetry α");
        assert_eq!(l.setting("algorithm.alpha", &json!(0.5)), "α = 0.5");
        assert_eq!(l.setting("algorithm.kind", &json!("DpTop")), "DP⊤");
        assert_eq!(l.value("algorithm.kind", &json!("DampedDp")), "damped DP");
        assert_eq!(
            l.setting("hardware", &json!("../device-models/ideal.ron")),
            "ideal"
        );
        assert_eq!(
            l.axis("hardware.device.write_noise_std"),
            "write noise (× dw_min)"
        );
        assert_eq!(
            l.setting("hardware.device.write_noise_std", &json!(30.0)),
            "write noise = 30.0 × dw_min"
        );
        assert_eq!(l.axis("hardware.io.out_noise"), "out noise");
        assert_eq!(l.metric("test_acc").axis(), "test accuracy (%)");
        assert_eq!(
            l.metric("fgsm_acc_0.05").axis(),
            "FGSM accuracy at ε = 0.05 (%)"
        );
        assert_eq!(
            l.metric("cosine_l1").axis(),
            "gradient cosine to backprop, layer 1"
        );
        assert!((l.metric("test_acc").scale(0.25) - 25.0).abs() < 1e-12);
    }

    #[test]
    fn overrides_replace_names_and_values() {
        let e = exp(&[
            ("algorithm.alpha", "asymmetry"),
            ("algorithm.kind=DpTop", "DP⊤ (ours)"),
            ("test_acc", "accuracy"),
        ]);
        assert_eq!(check(&e), Ok(()));
        let l = Labels::new(&e);
        assert_eq!(l.axis("algorithm.alpha"), "asymmetry");
        assert_eq!(l.setting("algorithm.alpha", &json!(1)), "asymmetry = 1");
        assert_eq!(l.value("algorithm.kind", &json!("DpTop")), "DP⊤ (ours)");
        assert_eq!(l.metric("test_acc").axis(), "accuracy (%)");
    }

    #[test]
    fn unknown_label_keys_are_rejected() {
        for key in [
            "algorithm.alpah",
            "test_accuracy",
            "algorithm.kind=Sgd",
            "cosine_l",
        ] {
            let e = exp(&[(key, "x")]);
            let (k, message) = check(&e).expect_err(key);
            assert_eq!(k, key);
            assert!(message.contains("names no field"), "{message}");
        }
        assert!(check(&exp(&[("algorithm.alpha", " ")])).is_err());
    }
}
