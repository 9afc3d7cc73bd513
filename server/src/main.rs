//! The `catalyst` binary: everything lives in the library so tests and tools can reuse it.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
