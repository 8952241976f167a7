//! Files dyadsim carries inside its binary, so that `dyadsim check` runs its built-in suites
//! anywhere: the device presets and the project's goldens, as they were when dyadsim was built.

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
