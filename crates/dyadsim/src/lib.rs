//! The `dyadsim` command line: argument parsing, progress, exit codes; no simulation logic.
//!
//! [`run`] is the whole program behind `main`, taking the arguments and the two output streams,
//! so integration tests drive exactly what users run. Exit codes: 0 success, 1 a failure (or a
//! failed check), 2 bad input (a malformed file, a parameter out of range, missing data).

mod cli;
mod commands;
mod flags;
mod plan;
mod progress;
mod tolerance;

use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

/// Exit code for success.
pub const SUCCESS: u8 = 0;
/// Exit code for a failure that is not the input's fault.
pub const FAILURE: u8 = 1;
/// Exit code for bad input.
pub const BAD_INPUT: u8 = 2;

/// Run the program with `args` (the program name first), writing plain text to `out` and `err`.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    run_styled(args, out, err, false)
}

/// [`run`], with clap's colours in help and usage errors when `styled` (what `main` passes when
/// the output is a terminal and `NO_COLOR` is not set).
pub fn run_styled(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
    styled: bool,
) -> u8 {
    let args = args.into_iter().map(|a| ascii_minus(a.into()));
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render();
            let text = if styled {
                text.ansi().to_string()
            } else {
                text.to_string()
            };
            // --help and --version are answers, not errors: they go to standard output.
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return if e.use_stderr() { BAD_INPUT } else { SUCCESS };
        }
    };
    if let Some(message) = lab::check::bits::unknown_simd_width() {
        let _ = writeln!(err, "error: {message}");
        return BAD_INPUT;
    }
    match commands::dispatch(cli, out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {}", flags::message(&e));
            if flags::is_input_error(&e) {
                BAD_INPUT
            } else {
                FAILURE
            }
        }
    }
}

/// An argument that is a number or a list of numbers written with the Unicode minus sign (U+2212,
/// as typeset text and many documents have it), with ASCII hyphen-minus in its place;
/// `--flag=value` forms are handled too. Any other argument is returned unchanged.
pub fn ascii_minus(arg: OsString) -> OsString {
    const MINUS: char = '\u{2212}';
    let Some(text) = arg.to_str() else {
        return arg;
    };
    if !text.contains(MINUS) {
        return arg;
    }
    let numeric = |v: &str| {
        !v.is_empty()
            && v.chars().all(|c| {
                c.is_ascii_digit() || matches!(c, MINUS | '-' | '+' | '.' | ',' | 'e' | 'E' | ' ')
            })
    };
    let fixed = match text.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") && numeric(value) => {
            format!("{flag}={}", value.replace(MINUS, "-"))
        }
        _ if numeric(text) => text.replace(MINUS, "-"),
        _ => return arg,
    };
    fixed.into()
}
