//! The integration-test binary of dyadsim: CLI end to end, architecture rules, shipped files.

mod architecture;
mod cli_errors;
mod cli_run;
mod shipped_files;
mod sweeps;
