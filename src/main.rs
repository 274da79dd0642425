/// orgform allocates many small values (manifest nodes, plan entries) on several threads at once;
/// mimalloc serves that pattern far better than glibc's allocator, which grows its per-thread
/// arenas page by page (BENCHMARKS.md, fleet scale).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    orgform::cli::main()
}
