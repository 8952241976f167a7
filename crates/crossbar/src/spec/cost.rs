//! The cost model of a hardware description: energy, latency and area per operation class.
//!
//! Optional (`cost: Some((...))`). A field with a default takes a published figure, cited in
//! docs/COSTS.md; a field without one has no published figure that fits every design and must be
//! given (omitting it is an error naming the field).

use super::{SpecError, check};
use serde::{Deserialize, Serialize};

/// Energy, latency and area per operation class, and the periphery's parallelism.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Energy per operation (joules).
    pub energy: Energy,
    /// Time per operation (seconds).
    pub latency: Latency,
    /// Silicon area per element (µm²).
    pub area: Area,
    /// Lines (columns or rows) sharing one ADC, converted one after the other; no default; >= 1.
    pub columns_per_adc: u32,
}

/// Energy per operation, in joules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Energy {
    /// One device multiply-accumulate in a read (J); no default; >= 0.
    pub cell_read: f64,
    /// One DAC conversion per bit of resolution: E_dac = dac_per_bit·bits (J); no default; >= 0.
    pub dac_per_bit: f64,
    /// ADC energy per conversion step (Walden figure of merit): E_adc = adc_fom·2^bits (J);
    /// default 4.4e-15 (van Elzakker et al. 2010, see docs/COSTS.md); >= 0.
    #[serde(default = "Energy::default_adc_fom")]
    pub adc_fom: f64,
    /// One programming pulse (J); no default; >= 0.
    pub pulse: f64,
    /// One neuron compartment update (J); no default; >= 0.
    pub compartment: f64,
    /// One 32-bit floating-point operation in the digital periphery (J); default 3.7e-12
    /// (a 45 nm FP32 multiply, Horowitz 2014); >= 0.
    #[serde(default = "Energy::default_digital_op")]
    pub digital_op: f64,
    /// One byte read from or written to digital memory (J); default 1.25e-12 (an 8 KB SRAM,
    /// 10 pJ per 64-bit access, Horowitz 2014); >= 0.
    #[serde(default = "Energy::default_memory_byte")]
    pub memory_byte: f64,
}

impl Energy {
    fn default_adc_fom() -> f64 {
        4.4e-15
    }
    fn default_digital_op() -> f64 {
        3.7e-12
    }
    fn default_memory_byte() -> f64 {
        1.25e-12
    }
}

/// Time per operation, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Integration time of one vector read (s); default 80e-9 (Gokmen & Vlasov 2016); >= 0.
    #[serde(default = "Latency::default_read")]
    pub read: f64,
    /// One ADC conversion (s); no default; >= 0.
    pub conversion: f64,
    /// One programming pulse slot (s); default 1e-9 (Gokmen & Vlasov 2016); >= 0.
    #[serde(default = "Latency::default_pulse")]
    pub pulse: f64,
    /// One layer update of the neuron circuits, i.e. their time constant τ (s); no default; >= 0.
    pub settle: f64,
    /// One digital operation (s; a wider datapath is a smaller value); no default; >= 0.
    pub digital_op: f64,
}

impl Latency {
    fn default_read() -> f64 {
        80e-9
    }
    fn default_pulse() -> f64 {
        1e-9
    }
}

/// Silicon area per element, in µm².
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// One crossbar cell (µm²); no default; >= 0.
    pub cell: f64,
    /// One ADC (µm²); no default; >= 0.
    pub adc: f64,
    /// One DAC (µm²); no default; >= 0.
    pub dac: f64,
    /// One neuron circuit, both compartments of a dyad (µm²); no default; >= 0.
    pub neuron: f64,
}

impl Cost {
    /// Range-check every figure.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let p = |section: &str, f: &str| format!("{path}.{section}.{f}");
        let e = &self.energy;
        for (f, v) in [
            ("cell_read", e.cell_read),
            ("dac_per_bit", e.dac_per_bit),
            ("adc_fom", e.adc_fom),
            ("pulse", e.pulse),
            ("compartment", e.compartment),
            ("digital_op", e.digital_op),
            ("memory_byte", e.memory_byte),
        ] {
            check::non_negative(&p("energy", f), v)?;
        }
        let l = &self.latency;
        for (f, v) in [
            ("read", l.read),
            ("conversion", l.conversion),
            ("pulse", l.pulse),
            ("settle", l.settle),
            ("digital_op", l.digital_op),
        ] {
            check::non_negative(&p("latency", f), v)?;
        }
        let a = &self.area;
        for (f, v) in [
            ("cell", a.cell),
            ("adc", a.adc),
            ("dac", a.dac),
            ("neuron", a.neuron),
        ] {
            check::non_negative(&p("area", f), v)?;
        }
        check::count(
            &format!("{path}.columns_per_adc"),
            self.columns_per_adc,
            1,
            u32::MAX,
        )
    }
}
