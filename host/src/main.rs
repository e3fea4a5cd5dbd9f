fn main() -> std::process::ExitCode {
    mcp_push::cli::main()
}
