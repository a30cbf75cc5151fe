//! Standard output and standard error that never panic: a closed standard output (`| head`)
//! ends the process quietly with success, an unwritable standard error is ignored.

use std::io::{ErrorKind, Write};

/// Prints to standard error, ignoring write errors (`2>&-`, `2>/dev/full`).
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::stdio::write_stderr(format_args!($($arg)*))
    };
}

/// Prints a line to standard error, ignoring write errors.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stdio::write_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints to standard output; a closed pipe ends the process quietly (see [`Stdout`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdio::write_stdout(format_args!($($arg)*))
    };
}

/// Prints a line to standard output; a closed pipe ends the process quietly.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdio::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {err, errln, out, outln};

/// Writes to standard error; errors are ignored: there is nowhere left to report them.
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Writes to standard output through [`Stdout`].
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = Stdout;
    if let Err(error) = out.write_fmt(args).and_then(|()| out.flush()) {
        errln!("Error: standard output: {error}");
        exit(2);
    }
}

/// Exits after removing the temporary files of interrupted writes.
pub fn exit(code: i32) -> ! {
    ensemble::fs::remove_temp_files();
    std::process::exit(code)
}

/// Standard output for the CLI: when the reader went away (`BrokenPipe`), the process exits
/// with success at once, as a Unix filter does; other errors are returned.
pub struct Stdout;

impl Stdout {
    fn check<T>(result: std::io::Result<T>) -> std::io::Result<T> {
        match result {
            Err(error) if error.kind() == ErrorKind::BrokenPipe => exit(0),
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Stdout::check(std::io::stdout().lock().write(bytes))
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        Stdout::check(std::io::stdout().lock().write_all(bytes))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Stdout::check(std::io::stdout().lock().flush())
    }
}
