//! The look-ahead's prefetch set for the span of one script or report, restored when that
//! span ends — also when its future is dropped midway (Ctrl-C in the REPL, an interrupt in
//! Python), so that a cancelled statement never leaves another statement's reads behind.

use std::ops::{Deref, DerefMut};

use super::*;

/// What the first features pass at each date also computes (see `lookahead`).
pub(super) type Prefetch = HashMap<NaiveDate, ensemble_compiler::Needs>;

/// The session, borrowed for one script or report; dropping it puts back the prefetch set
/// it found. Work runs through it (it dereferences to the [`Session`]).
pub(super) struct PrefetchScope<'a> {
    session: &'a mut Session,
    saved: Option<Prefetch>,
}

impl<'a> PrefetchScope<'a> {
    /// Replaces the session's prefetch set with `prefetch` until the scope ends.
    pub(super) fn replace(session: &'a mut Session, prefetch: Prefetch) -> Self {
        let saved = std::mem::replace(&mut session.prefetch, prefetch);
        PrefetchScope {
            session,
            saved: Some(saved),
        }
    }

    /// Keeps the session's prefetch set, to which the scope's work may add, until the scope
    /// ends.
    pub(super) fn extend(session: &'a mut Session) -> Self {
        let saved = session.prefetch.clone();
        Self::replace(session, saved)
    }
}

impl Deref for PrefetchScope<'_> {
    type Target = Session;

    fn deref(&self) -> &Session {
        self.session
    }
}

impl DerefMut for PrefetchScope<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
    }
}

impl Drop for PrefetchScope<'_> {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            self.session.prefetch = saved;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    use datafusion::arrow::array::{ArrayRef, Date32Array, Int64Array};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    /// Three customers, one purchases table, as of 2026-06-30.
    async fn session() -> (tempfile::TempDir, Session) {
        let dir = tempfile::tempdir().unwrap();
        write_parquet(
            &dir.path().join("customers.parquet"),
            vec![("customer_id", Arc::new(Int64Array::from(vec![1, 2, 3])))],
        );
        write_parquet(
            &dir.path().join("purchases.parquet"),
            vec![
                ("customer_id", Arc::new(Int64Array::from(vec![1, 2, 2]))),
                (
                    "purchased_at",
                    Arc::new(Date32Array::from(vec![20_600, 20_610, 20_620])),
                ),
                ("amount", Arc::new(Int64Array::from(vec![10, 20, 30]))),
            ],
        );
        std::fs::write(
            dir.path().join("ensemble.toml"),
            "[tables.customers]\npath = \"customers.parquet\"\n\n[tables.purchases]\npath = \
             \"purchases.parquet\"\nkey = \"customer_id\"\ntime = \"purchased_at\"\n",
        )
        .unwrap();
        let mut session = Session::open(dir.path().join("ensemble.toml"))
            .await
            .unwrap();
        session.set_as_of(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
        (dir, session)
    }

    /// Polls `future` `polls` times (or until it ends), then drops it. Returns whether it was
    /// dropped before its end.
    fn drop_midway<F: Future>(future: F, polls: usize) -> bool {
        let mut future = pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        for _ in 0..polls {
            if future.as_mut().poll(&mut context).is_ready() {
                return false;
            }
        }
        true
    }

    /// The script's prefetch set, as the look-ahead would leave it while a script runs.
    fn script_prefetch() -> Prefetch {
        let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        Prefetch::from([(date, ensemble_compiler::Needs::default())])
    }

    #[tokio::test]
    async fn a_dropped_report_restores_the_scripts_prefetch() {
        let (_dir, mut session) = session().await;
        session
            .run_script("segment buyers = [has purchases];", "<test>")
            .await
            .unwrap();
        let mut dropped_midway = false;
        // Dropped after one poll, two, …: wherever the report stood, the set is the script's.
        for polls in 1..50 {
            session.prefetch = script_prefetch();
            dropped_midway |= drop_midway(session.report("overlap buyers, all;"), polls);
            assert_eq!(
                session.prefetch,
                script_prefetch(),
                "dropped after {polls} polls"
            );
        }
        assert!(dropped_midway, "the report always finished at once");
        // And the session still answers.
        session.prefetch = Prefetch::new();
        session.report("overlap buyers, all;").await.unwrap();
        assert!(session.prefetch.is_empty());
    }

    #[tokio::test]
    async fn a_dropped_script_leaves_no_prefetch() {
        let (_dir, mut session) = session().await;
        let script = "[has purchases]; [sum(purchases.amount) > 15]; [count(purchases) > 1];";
        let mut dropped_midway = false;
        for polls in 1..50 {
            dropped_midway |= drop_midway(session.run_script(script, "<test>"), polls);
            assert!(session.prefetch.is_empty(), "dropped after {polls} polls");
        }
        assert!(dropped_midway, "the script always finished at once");
    }
}
