//! `powersync`: a SQLite shell with the PowerSync core registered.

/// `println!` that exits quietly when stdout is closed (e.g. piped into `head`).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("writing to stdout: {e}");
        }
    }};
}

mod doctor;
mod replay;
mod shell;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "powersync", version, about = "PowerSync core command-line tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open a database with PowerSync registered and run SQL from the arguments, or from
    /// standard input when none are given. Rows are printed like the sqlite3 shell's.
    Sql(shell::SqlArgs),
    /// Replay recorded sync lines (NDJSON or BSON) through `powersync_control` into a
    /// database, printing the instructions (or a progress bar and a summary).
    Replay(replay::ReplayArgs),
    /// Check a database for the states that stop sync in the field (stuck write gate,
    /// oplog/data inconsistencies, leftover tables, unknown schema version), explain each, and
    /// with `--fix` repair what is safe to repair. Never changes `ps_crud`.
    Doctor(doctor::DoctorArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sql(args) => shell::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Doctor(args) => doctor::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line with the whole cause chain, like the sqlite3 shell; anyhow's default
            // report would add a stack backtrace whenever RUST_BACKTRACE is set in the
            // environment, which is noise for someone who typed a wrong statement.
            // SQLite's primary result code ("Error code 21: bad parameter or other API
            // misuse") is the source of every rusqlite error that has a message, and adds
            // nothing to the message itself.
            let chain: Vec<String> = error
                .chain()
                .filter(|cause| cause.downcast_ref::<rusqlite::ffi::Error>().is_none())
                .map(|cause| cause.to_string())
                .collect();
            eprintln!("Error: {}", chain.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}
