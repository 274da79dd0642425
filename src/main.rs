fn main() -> std::process::ExitCode {
    orgform::cli::main()
}
