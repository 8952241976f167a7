//! The `dyadsim` command line: argument parsing, progress, exit codes; no simulation logic.
//!
//! [`run`] is the whole program behind `main`, taking the arguments and the two output streams,
//! so integration tests drive exactly what users run. Exit codes: 0 success, 1 a failure (or a
//! failed check), 2 bad input (a malformed file, a parameter out of range, missing data).

mod cli;
mod commands;
mod flags;
mod progress;

use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

/// Exit code for success.
pub const SUCCESS: u8 = 0;
/// Exit code for a failure that is not the input's fault.
pub const FAILURE: u8 = 1;
/// Exit code for bad input.
pub const BAD_INPUT: u8 = 2;

/// Run the program with `args` (the program name first), writing to `out` and `err`.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = write!(err, "{}", e.render().ansi());
            return if e.use_stderr() { BAD_INPUT } else { SUCCESS };
        }
    };
    match commands::dispatch(cli, out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {}", flags::message(&e));
            let input = e.chain().any(|cause| {
                cause
                    .downcast_ref::<lab::LabError>()
                    .is_some_and(|e| e.is_input_error())
            });
            if input { BAD_INPUT } else { FAILURE }
        }
    }
}
