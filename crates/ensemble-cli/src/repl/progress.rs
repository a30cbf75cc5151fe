//! The spinner shown while an entry runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A progress spinner on stderr that shows up after a delay (indicatif draws only on a
/// terminal). Output must not interleave with it: whoever prints a result first calls
/// [`Progress::stop`], and dropping the guard of [`Progress::start`] stops it too (an entry
/// cancelled by Ctrl-C).
#[derive(Clone, Default)]
pub(super) struct Progress {
    state: Arc<Mutex<ProgressState>>,
}

#[derive(Default)]
struct ProgressState {
    /// Bumped by each start and each stop, so a stale timer never shows a spinner.
    generation: u64,
    bar: Option<indicatif::ProgressBar>,
}

/// Stops the spinner when dropped.
pub(super) struct ProgressGuard(Progress);

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Progress {
    /// Shows `message` with a spinner if the guard is still alive after `delay`.
    pub(super) fn start(&self, delay: Duration, message: &'static str) -> ProgressGuard {
        let generation = match self.state.lock() {
            Ok(mut state) => {
                state.generation += 1;
                state.generation
            }
            Err(_) => return ProgressGuard(self.clone()),
        };
        let state = self.state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Ok(mut state) = state.lock() {
                if state.generation == generation {
                    let bar = indicatif::ProgressBar::new_spinner().with_message(message);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    state.bar = Some(bar);
                }
            }
        });
        ProgressGuard(self.clone())
    }

    /// Clears the spinner, if one is showing, and keeps a pending one from appearing.
    pub(super) fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            if let Some(bar) = state.bar.take() {
                bar.finish_and_clear();
            }
        }
    }
}
