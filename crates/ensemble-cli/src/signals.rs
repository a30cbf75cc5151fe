//! Interrupted commands leave no temporary file: on SIGTERM and SIGHUP (and SIGINT, except in
//! the REPL, which turns Ctrl-C into cancelling the running entry), the temporary files of
//! unfinished writes are removed and the process exits with 128 + the signal's number.
//!
//! The handlers are tasks of the tokio runtime (its `signal` feature is already used by the
//! REPL), so no other signal crate is needed; they run on a worker thread even while the main
//! thread is busy writing.

/// Installs the handlers on `runtime`; `interrupt` adds SIGINT.
#[cfg(unix)]
pub fn install(runtime: &tokio::runtime::Runtime, interrupt: bool) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let _context = runtime.enter();
    let mut kinds = vec![SignalKind::terminate(), SignalKind::hangup()];
    if interrupt {
        kinds.push(SignalKind::interrupt());
    }
    for kind in kinds {
        let mut stream = signal(kind)?;
        runtime.spawn(async move {
            if stream.recv().await.is_some() {
                crate::stdio::exit(128 + kind.as_raw_value());
            }
        });
    }
    Ok(())
}

/// Elsewhere, the default handling stays.
#[cfg(not(unix))]
pub fn install(_runtime: &tokio::runtime::Runtime, _interrupt: bool) -> std::io::Result<()> {
    Ok(())
}
