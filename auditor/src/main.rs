//! The `auditor` command: parses arguments, runs [`auditor::cli::run`], maps the outcome to the
//! exit code (0 clean, 1 findings, 2 could not run).

use std::process::ExitCode;

use clap::Parser;

use auditor::cli::{Cli, Io, run};

// The scan allocates millions of small strings (every finding of every report); mimalloc is
// markedly faster than the system allocator at that and returns memory just as well.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr());
    let mut io = Io {
        stdout: &mut stdout,
        stderr: &mut stderr,
        now: chrono::Utc::now(),
        progress: Io::stderr_is_terminal(),
    };
    match run(cli, &mut io) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("auditor: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
