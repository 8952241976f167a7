//! `dyadsim`: simulate dual-propagation learning on non-ideal analog hardware.

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    // https://no-color.org: any non-empty NO_COLOR turns colours off.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let styled = !no_color && out.is_terminal() && err.is_terminal();
    ExitCode::from(dyadsim::run_styled(
        std::env::args_os(),
        &mut out,
        &mut err,
        styled,
    ))
}
