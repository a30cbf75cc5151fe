//! Ctrl-C while an entry runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ensemble::Interrupter;
use tokio::sync::Notify;

/// Ctrl-C as signals, listened to for the whole REPL session by a task of its own. The
/// listener exists before any entry starts, and each Ctrl-C at once interrupts the session's
/// running statement, so that one pressed while an entry is in a synchronous stretch
/// (checking, planning) stops it there; it also wakes whoever waits in [`Interrupts::next`].
pub(super) struct Interrupts {
    count: Arc<AtomicU64>,
    seen: u64,
    notify: Arc<Notify>,
}

impl Interrupts {
    /// Starts listening; each Ctrl-C also calls `interrupter`.
    pub(super) fn listen(interrupter: Interrupter) -> std::io::Result<Interrupts> {
        #[cfg(unix)]
        let mut signals =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        #[cfg(windows)]
        let mut signals = tokio::signal::windows::ctrl_c()?;
        let count = Arc::new(AtomicU64::new(0));
        let notify = Arc::new(Notify::new());
        let (counter, notifier) = (count.clone(), notify.clone());
        tokio::spawn(async move {
            while signals.recv().await.is_some() {
                counter.fetch_add(1, Ordering::SeqCst);
                interrupter.interrupt();
                notifier.notify_waiters();
            }
        });
        Ok(Interrupts {
            count,
            seen: 0,
            notify,
        })
    }

    /// Drops a Ctrl-C that arrived between entries, so that it does not cancel the next one
    /// (the session clears its own flag when a statement starts).
    pub(super) fn forget_pending(&mut self) {
        self.seen = self.count.load(Ordering::SeqCst);
    }

    /// The next Ctrl-C.
    pub(super) async fn next(&mut self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = self.count.load(Ordering::SeqCst);
            if now > self.seen {
                self.seen = now;
                return;
            }
            notified.await;
        }
    }
}
