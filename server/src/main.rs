//! The `catalyst` binary: everything lives in the library so tests and tools can reuse it.

/// mimalloc rather than glibc malloc: server-side rendering allocates many small, short-lived objects on every
/// tokio worker thread (BENCHMARKS.md → "HTTP load").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
