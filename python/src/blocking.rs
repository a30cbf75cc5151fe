//! Running engine work off the Python thread: the GIL is released while it runs, the
//! notebook's interrupt (SIGINT → `KeyboardInterrupt`) stops it at once, and a Rust panic
//! comes back as `InternalError`, never as an abort.
//!
//! Stopping works as the REPL's Ctrl-C does: the running call's future is dropped (a session
//! publishes nothing before a statement completes, so it stays as it was), and the engine's
//! [`Interrupter`] is set for work between awaits.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ensemble::{EngineError, Interrupter};
use futures::channel::oneshot;
use futures::future::{select, Either};
use pyo3::prelude::*;

use crate::errors::InternalError;

/// How often the waiting Python thread looks for a pending signal.
const SIGNAL_POLL: Duration = Duration::from_millis(25);

/// The tokio runtime every session's work runs on (DataFusion's partitions are its tasks).
pub(crate) fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ensemble-worker")
        .build()
        .map_err(|e| InternalError::new_err(format!("cannot start the runtime: {e}")))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// Stops a session's running call: from the notebook's interrupt or `Session.interrupt()`.
pub(crate) struct Stopper {
    interrupter: Interrupter,
    /// The running call's stop signal.
    armed: Mutex<Option<oneshot::Sender<()>>>,
}

impl Stopper {
    /// A stopper for the session whose interrupter is `interrupter`.
    pub(crate) fn new(interrupter: Interrupter) -> Stopper {
        Stopper {
            interrupter,
            armed: Mutex::new(None),
        }
    }

    /// A runner for the next call, which [`Stopper::stop`] stops.
    pub(crate) fn arm(&self, runtime: &'static tokio::runtime::Runtime) -> Runner {
        let (stop, stopped) = oneshot::channel();
        if let Ok(mut armed) = self.armed.lock() {
            *armed = Some(stop);
        }
        Runner {
            runtime,
            stopped: RefCell::new(Some(stopped)),
        }
    }

    /// Stops the running call, if any.
    pub(crate) fn stop(&self) {
        self.interrupter.interrupt();
        if let Some(stop) = self.armed.lock().ok().and_then(|mut armed| armed.take()) {
            let _ = stop.send(());
        }
    }
}

/// Runs one call's futures on the runtime until they end or the call is stopped.
pub(crate) struct Runner {
    runtime: &'static tokio::runtime::Runtime,
    stopped: RefCell<Option<oneshot::Receiver<()>>>,
}

impl Runner {
    /// Runs `work` to its end, or until the call is stopped (then `Cancelled`).
    pub(crate) fn block_on<T>(
        &self,
        work: impl Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let stopped = self.stopped.borrow_mut().take();
        self.runtime.block_on(async move {
            let Some(stopped) = stopped else {
                return work.await;
            };
            match select(pin!(work), stopped).await {
                Either::Left((outcome, _)) => outcome,
                Either::Right((Ok(()), _)) => Err(EngineError::Cancelled),
                // The stop signal was dropped without stopping: nothing can stop it now.
                Either::Right((Err(_), work)) => work.await,
            }
        })
    }
}

/// Runs `work` on a scoped thread with the GIL released and waits for it, checking for
/// signals meanwhile. On `KeyboardInterrupt` (or any signal handler's exception) `stop`, if
/// given, stops the work; once it has returned, the exception is raised and its result
/// dropped. Without `stop` the work runs to its end first.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    stop: Option<&(dyn Fn() + Sync)>,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (done, finished) = mpsc::channel::<()>();
        let worker = scope.spawn(move || {
            let outcome = work();
            let _ = done.send(());
            outcome
        });
        let mut pending: Option<PyErr> = None;
        let mut finished = Some(finished);
        while let Some(receiver) = finished.take() {
            let (status, receiver) = py.detach(move || wait(receiver));
            match status {
                Err(RecvTimeoutError::Timeout) => {
                    finished = Some(receiver);
                    if pending.is_none() {
                        if let Err(signal) = py.check_signals() {
                            if let Some(stop) = stop {
                                stop();
                            }
                            pending = Some(signal);
                        }
                    }
                }
                // Done, or the worker panicked (its sender dropped): `join` tells which.
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
            }
        }
        let outcome = py.detach(move || worker.join());
        if let Some(signal) = pending {
            return Err(signal);
        }
        outcome.map_err(|panic| InternalError::new_err(panic_message(panic.as_ref())))
    })
}

fn wait(receiver: Receiver<()>) -> (Result<(), RecvTimeoutError>, Receiver<()>) {
    (receiver.recv_timeout(SIGNAL_POLL), receiver)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("internal error of ensemble (please report it): {text}")
}
