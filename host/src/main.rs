// mimalloc rather than glibc's malloc, whose `malloc` and `free` were about a
// seventh of `serve`'s CPU with 64 clients: interleaved with the glibc build,
// 64 clients delivered a fifth more and 16 about a seventh more, for 1 to 2
// MiB more resident memory (README, `serve_http`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mcp_push::cli::main()
}
