//! The `framejet` command.

fn main() -> std::process::ExitCode {
    framejet::cli::main()
}
