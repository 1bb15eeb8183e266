use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(dbwarden::cli::run())
}
