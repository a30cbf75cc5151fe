//! The REPL: notebook-style exploration of segments (rustyline; backslash commands as in psql
//! and datafusion-cli; Ctrl-C cancels a running evaluation, not the session).

mod commands;
mod dispatch;
mod helper;
mod interrupts;
mod progress;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ensemble::arrow::record_batch::RecordBatch;
use ensemble::{group_thousands, EngineError, Evaluation, Outcome, Session};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::output::{render_batches, Format};
use crate::stdio::{err, errln, out, outln};
use helper::{is_complete, ReplHelper, Vocabulary};
use interrupts::Interrupts;
use progress::Progress;

/// Longest statement read from a pipe: the limit on a script file.
const MAX_ENTRY_BYTES: usize = ensemble::fs::DEFAULT_READ_LIMIT as usize;

/// One line of `reader` (with its end), at most `limit` bytes; `None` at the end of input.
fn read_line(reader: &mut impl std::io::BufRead, limit: usize) -> Result<Option<String>, String> {
    use std::io::{BufRead as _, Read as _};
    let mut bytes = Vec::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| e.to_string())?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.len() > limit {
        return Err(format!(
            "a statement longer than {} MiB: split it, or use ensemble run",
            MAX_ENTRY_BYTES >> 20
        ));
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at column {})",
            e.utf8_error().valid_up_to() + 1
        )
    })
}

/// Display settings changed by commands.
struct Settings {
    timing: bool,
    format: Format,
    max_rows: usize,
}

/// What went wrong with one entry.
enum EntryError {
    Engine(EngineError),
    Message(String),
}

/// A REPL over one session.
pub struct Repl {
    session: Session,
    settings: Settings,
    color: bool,
    vocabulary: Arc<Mutex<Vocabulary>>,
    progress: Progress,
    /// The input line the current entry starts on (piped input; 1 on a terminal).
    first_line: usize,
}

impl Repl {
    /// A REPL on an opened session.
    pub fn new(session: Session, color: bool) -> Repl {
        let repl = Repl {
            session,
            settings: Settings {
                timing: true,
                format: Format::Table,
                max_rows: 10,
            },
            color,
            vocabulary: Arc::new(Mutex::new(Vocabulary::default())),
            progress: Progress::default(),
            first_line: 1,
        };
        repl.refresh_vocabulary();
        repl
    }

    /// Runs interactively on a terminal, or reads standard input to its end otherwise.
    /// Returns false when piped input stopped on an error.
    pub async fn run(mut self) -> bool {
        if std::io::stdin().is_terminal() {
            self.interactive().await;
            true
        } else {
            self.piped().await
        }
    }

    /// Reads standard input statement by statement (never all of it at once: an endless
    /// pipe is fine, a statement longer than [`MAX_ENTRY_BYTES`] is refused) and stops on the
    /// first error, reported with its line in the input.
    async fn piped(&mut self) -> bool {
        let stdin = std::io::stdin();
        let mut reader = stdin.lock();
        let mut buffer = String::new();
        let mut line_number = 0usize;
        loop {
            let line = match read_line(
                &mut reader,
                MAX_ENTRY_BYTES - buffer.len().min(MAX_ENTRY_BYTES),
            ) {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(message) => {
                    errln!("Error: standard input, line {}: {message}", line_number + 1);
                    return false;
                }
            };
            line_number += 1;
            if buffer.trim().is_empty() {
                buffer.clear();
                if line.trim().is_empty() {
                    continue;
                }
                self.first_line = line_number;
            }
            buffer.push_str(line.trim_end_matches(['\n', '\r']));
            buffer.push('\n');
            if is_complete(&buffer) {
                let entry = std::mem::take(&mut buffer);
                match self.entry(&entry).await {
                    Ok(true) => return true,
                    Ok(false) => {}
                    Err(error) => {
                        self.report(&error, &entry);
                        return false;
                    }
                }
            }
        }
        if !buffer.trim().is_empty() {
            // The last statement may omit its `;`.
            if let Err(error) = self.entry(&buffer).await {
                self.report(&error, &buffer);
                return false;
            }
        }
        true
    }

    async fn interactive(&mut self) {
        let config = Config::builder()
            .auto_add_history(false)
            .max_history_size(10_000)
            .map(|b| b.build());
        let config = config.unwrap_or_default();
        let mut editor: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
            Ok(editor) => editor,
            Err(error) => {
                errln!("Error: cannot start the line editor: {error}");
                return;
            }
        };
        editor.set_helper(Some(ReplHelper {
            vocabulary: self.vocabulary.clone(),
            color: self.color,
        }));
        let mut interrupts = match Interrupts::listen(self.session.interrupter()) {
            Ok(interrupts) => interrupts,
            Err(error) => {
                errln!("Error: cannot listen for Ctrl-C: {error}");
                return;
            }
        };
        let history = history_path();
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        let origin = match self.session.as_of_origin() {
            "catalog" => " (the catalog's date)",
            "today" => " (today)",
            _ => "",
        };
        outln!(
            "ensemble {} — {} as of {}{origin}. \\? for help, Ctrl-D to quit.",
            env!("CARGO_PKG_VERSION"),
            self.session.catalog().path.display(),
            self.session.as_of()
        );
        loop {
            match editor.readline("ensemble> ") {
                Ok(line) => {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let _ = editor.add_history_entry(line.as_str());
                    if let Some(path) = &history {
                        let _ = editor.append_history(path);
                    }
                    // Ctrl-C while the editor reads is a key (it clears the input); while an
                    // entry runs, the terminal is back in cooked mode and Ctrl-C is a signal.
                    interrupts.forget_pending();
                    let outcome = tokio::select! {
                        outcome = self.entry_with_progress(&line) => Some(outcome),
                        _ = interrupts.next() => None,
                    };
                    match outcome {
                        Some(Ok(true)) => break,
                        Some(Ok(false)) => {}
                        Some(Err(error)) => self.report(&error, &line),
                        None => errln!("cancelled; the session is as it was before this entry"),
                    }
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(error) => {
                    errln!("Error: {error}");
                    break;
                }
            }
        }
    }

    /// Runs an entry; on a terminal, a spinner appears if it takes more than a moment. The
    /// spinner goes away with the entry, whether it finishes or is cancelled (dropped).
    async fn entry_with_progress(&mut self, entry: &str) -> Result<bool, EntryError> {
        let _progress = self
            .progress
            .start(Duration::from_millis(700), "evaluating… (Ctrl-C cancels)");
        self.entry(entry).await
    }

    fn report(&self, error: &EntryError, entry: &str) {
        self.progress.stop();
        match error {
            // The text the error points into: this entry, or an earlier definition's (a cycle
            // through a segment defined before). Only this entry's lines are offset.
            EntryError::Engine(EngineError::Language {
                diagnostic,
                source_text,
                origin,
            }) => {
                let first_line = if source_text.as_ref() == entry {
                    self.first_line
                } else {
                    1
                };
                errln!(
                    "{}",
                    diagnostic
                        .render_from_line(source_text, origin, self.color, first_line)
                        .trim_end()
                );
            }
            EntryError::Engine(EngineError::Cancelled) => {
                errln!("cancelled; the session is as it was before this entry")
            }
            EntryError::Engine(error) => err!("{}", error.render(self.color)),
            EntryError::Message(message) => errln!("Error: {message}"),
        }
    }

    /// One statement or command. Returns true to quit.
    async fn entry(&mut self, entry: &str) -> Result<bool, EntryError> {
        let trimmed = entry.trim();
        if trimmed.starts_with('\\') {
            let command = commands::parse(trimmed).map_err(EntryError::Message)?;
            return self.command(command).await;
        }
        let run = self
            .session
            .run_script(entry, "<repl>")
            .await
            .map_err(EntryError::Engine)?;
        self.progress.stop();
        for note in &run.notes {
            errln!(
                "{}",
                note.render_from_line(entry, "<repl>", self.color, self.first_line)
                    .trim_end()
            );
        }
        for outcome in &run.outcomes {
            match outcome {
                Outcome::AsOf(date) => errln!("as of {date}"),
                Outcome::Field(name) => errln!("field {name} defined"),
                Outcome::Segment(name) => errln!("segment {name} defined"),
                Outcome::Partition(name) => errln!("partition {name} defined"),
                Outcome::Score(name) => errln!("score {name} defined"),
                Outcome::Evaluated(evaluation) => self.print_evaluation(evaluation).await?,
                Outcome::Report(report) => {
                    out!("{report}");
                    if self.settings.timing {
                        errln!("{} in {:.1?}", report.kind(), report.elapsed);
                    }
                }
            }
        }
        self.refresh_vocabulary();
        Ok(false)
    }

    async fn print_evaluation(&self, evaluation: &Evaluation) -> Result<(), EntryError> {
        if let Some(partition) = evaluation.partition() {
            // A partition's answer is its tiers; its step tree is one `\steps` away.
            out!("{}", partition.table());
            errln!(
                "{} members as of {} (\\steps shows the step tree, \\show {}.TIER the members)",
                group_thousands(evaluation.count()),
                evaluation.as_of,
                partition.name
            );
            return Ok(());
        }
        errln!("{}", evaluation.tree().trim_end());
        let timing = if self.settings.timing {
            format!(" in {:.1?}", evaluation.elapsed)
        } else {
            String::new()
        };
        errln!(
            "{} members as of {}{timing}",
            group_thousands(evaluation.count()),
            evaluation.as_of
        );
        let root = &evaluation.steps[evaluation.root];
        let preview = self
            .session
            .preview(&root.table, self.settings.max_rows)
            .await
            .map_err(EntryError::Engine)?;
        self.print_batches(&preview)
    }

    fn print_batches(&self, batches: &[RecordBatch]) -> Result<(), EntryError> {
        self.progress.stop();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 && matches!(self.settings.format, Format::Table | Format::Markdown) {
            outln!("(no rows)");
            return Ok(());
        }
        let text = render_batches(batches, self.settings.format, self.settings.max_rows)
            .map_err(EntryError::Message)?;
        out!("{text}");
        Ok(())
    }

    fn refresh_vocabulary(&self) {
        let catalog = self.session.catalog();
        let mut vocabulary = Vocabulary {
            names: self
                .session
                .listing()
                .into_iter()
                .flat_map(|listed| {
                    std::iter::once(listed.name).chain(listed.tiers.into_iter().map(|t| t.0))
                })
                .collect(),
            tables: catalog.providers.keys().cloned().collect(),
            columns: Vec::new(),
        };
        for field in catalog.schema.universe.schema.fields() {
            vocabulary.columns.push(field.name().clone());
        }
        for (name, table) in &catalog.schema.related {
            for field in table.schema.fields() {
                vocabulary.columns.push(format!("{name}.{}", field.name()));
            }
        }
        // A score's fields complete like columns: rfm.r, rfm.score.
        for (name, score) in &self.session.definitions().scores {
            for field in score.fields() {
                vocabulary.columns.push(format!("{name}.{field}"));
            }
        }
        if let Ok(mut shared) = self.vocabulary.lock() {
            *shared = vocabulary;
        }
    }
}

/// `$ENSEMBLE_HISTORY`, or `~/.ensemble_history`.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ENSEMBLE_HISTORY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".ensemble_history"))
}
