//! Standard output for the commands: a reader that goes away early
//! (`mcp-push runs | head -1`) ends the command quietly, as in any Unix tool.
//!
//! std's `println!` panics on a closed pipe, and the usual cure, restoring
//! SIGPIPE's default action, would let a client that hangs up kill `serve`
//! or `mcp` (they write to sockets). So only writes to stdout look for
//! `BrokenPipe`, here.

use std::fmt;
use std::io::Write;

/// Write to standard output; a closed pipe ends the process with exit code 0
/// (the reader had all it wanted), any other error is reported.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(i32::from(super::EXIT_USAGE));
    }
}

/// `println!` that ends quietly on a closed pipe (see [`write`]).
macro_rules! outln {
    () => { $crate::cli::output::write(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends quietly on a closed pipe (see [`write`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write(format_args!($($arg)*)) };
}

pub(crate) use {out, outln};
