//! `dyadsim`: simulate dual-propagation learning on non-ideal analog hardware.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    ExitCode::from(dyadsim::run(std::env::args_os(), &mut out, &mut err))
}
