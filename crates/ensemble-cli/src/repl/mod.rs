//! The REPL: notebook-style exploration of segments (rustyline; backslash commands as in psql
//! and datafusion-cli; Ctrl-C cancels a running evaluation, not the session).

mod commands;
mod helper;
mod interrupts;
mod progress;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ensemble::arrow::record_batch::RecordBatch;
use ensemble::{group_thousands, EngineError, Evaluation, Outcome, Session};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::output::{render_batches, write_batches};
use crate::stdio::{err, errln, out, outln};
use commands::Command;
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
    format: String,
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
                format: "table".into(),
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
        outln!(
            "ensemble {} — {} as of {}. \\? for help, Ctrl-D to quit.",
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
                Outcome::Evaluated(evaluation) => self.print_evaluation(evaluation).await?,
            }
        }
        self.refresh_vocabulary();
        Ok(false)
    }

    async fn print_evaluation(&self, evaluation: &Evaluation) -> Result<(), EntryError> {
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
        if rows == 0 && matches!(self.settings.format.as_str(), "table" | "markdown") {
            outln!("(no rows)");
            return Ok(());
        }
        let text = render_batches(batches, &self.settings.format, self.settings.max_rows)
            .map_err(EntryError::Message)?;
        out!("{text}");
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Result<bool, EntryError> {
        match command {
            Command::Quit => return Ok(true),
            Command::Help(topic) => out!("{}", commands::help(topic.as_deref())),
            Command::Tables => crate::datamart::print_tables(&self.session),
            Command::Describe(table) => {
                let description = self
                    .session
                    .describe(&table)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                out!("{}", crate::datamart::render_description(description));
            }
            Command::Segments => {
                let listing = self.session.listing();
                if listing.is_empty() {
                    outln!("no definitions yet");
                }
                for (name, segment, statement, size) in listing {
                    let size = match (segment, size) {
                        (true, Some(n)) => format!("{:>12}", group_thousands(n)),
                        (true, None) => format!("{:>12}", "not run"),
                        (false, _) => format!("{:>12}", "field"),
                    };
                    outln!("{size}  {name:<24} {statement}");
                }
            }
            Command::Steps => match self.session.last_evaluation() {
                None => outln!("nothing evaluated yet"),
                Some(evaluation) => {
                    out!("{}", evaluation.tree());
                    for step in &evaluation.steps {
                        let how = if step.reused {
                            "reused".to_string()
                        } else {
                            format!("{:.1?}", step.elapsed)
                        };
                        outln!(
                            "  #{:<3} {:<8} {:>12} members  {how}",
                            step.id,
                            step.table,
                            group_thousands(step.count)
                        );
                    }
                }
            },
            Command::Show(target, limit) => {
                let limit = limit.unwrap_or(self.settings.max_rows);
                let batches = match self.session.preview(&target, limit).await {
                    // A segment defined but not in the last evaluation: evaluate it.
                    Err(EngineError::UnknownStep { .. })
                        if self.session.definitions().segments.contains_key(&target) =>
                    {
                        let evaluation = self
                            .session
                            .evaluate(&target)
                            .await
                            .map_err(EntryError::Engine)?;
                        let root = evaluation.steps[evaluation.root].table.clone();
                        self.session.preview(&root, limit).await
                    }
                    other => other,
                }
                .map_err(EntryError::Engine)?;
                self.print_batches(&batches)?;
            }
            Command::Explain(expression) => {
                let explanation = self.session.explain(&expression).map_err(|e| match e {
                    EngineError::Language { diagnostic, .. } => {
                        EntryError::Message(diagnostic.render(&expression, "<explain>", self.color))
                    }
                    other => EntryError::Engine(other),
                })?;
                out!("{explanation}");
            }
            Command::Sql(query) => {
                let batches = self
                    .session
                    .sql(&query)
                    .await
                    .map_err(|e| self.explain_sql_error(e))?;
                self.print_batches(&batches)?;
            }
            Command::AsOf(text) => {
                let date = if text.eq_ignore_ascii_case("today") {
                    chrono::Local::now().date_naive()
                } else {
                    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                        EntryError::Message(format!("'{text}' is not a date (YYYY-MM-DD or today)"))
                    })?
                };
                self.session.set_as_of(date);
                errln!("as of {date}");
            }
            Command::Timing(on) => {
                self.settings.timing = on;
                errln!("timing {}", if on { "on" } else { "off" });
            }
            Command::Format(format) => {
                errln!("format {format}");
                self.settings.format = format;
            }
            Command::MaxRows(n) => {
                self.settings.max_rows = n.max(1);
                errln!("maxrows {}", self.settings.max_rows);
            }
            Command::Export(what, path) => {
                if let Some(query) = commands::export_query(&what) {
                    let batches = self.session.sql(query).await.map_err(EntryError::Engine)?;
                    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                    write_batches(&batches, Path::new(&path)).map_err(EntryError::Message)?;
                    self.progress.stop();
                    errln!("wrote {} rows to {path}", group_thousands(rows));
                    return Ok(false);
                }
                let table = match self.session.last_evaluation().and_then(|e| {
                    e.steps
                        .iter()
                        .find(|s| {
                            s.table == what
                                || s.names.contains(&what)
                                || format!("#{}", s.id) == what
                        })
                        .map(|s| s.table.clone())
                }) {
                    Some(table) => table,
                    None => {
                        // Not a step of the last evaluation: an expression to evaluate.
                        let evaluation = self
                            .session
                            .evaluate(&what)
                            .await
                            .map_err(EntryError::Engine)?;
                        evaluation.steps[evaluation.root].table.clone()
                    }
                };
                let batches = self
                    .session
                    .members_with_columns(&table)
                    .await
                    .map_err(EntryError::Engine)?;
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                write_batches(&batches, Path::new(&path)).map_err(EntryError::Message)?;
                self.progress.stop();
                errln!("wrote {} members to {path}", group_thousands(rows));
            }
            Command::Load(file) => {
                let text = ensemble::fs::read_text_limited(
                    Path::new(&file),
                    ensemble::fs::DEFAULT_READ_LIMIT,
                )
                .map_err(|e| EntryError::Message(e.to_string()))?;
                let run = self
                    .session
                    .run_script(&text, &file)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                errln!("{file}: {} statement(s)", run.outcomes.len());
                if let Some(evaluation) = run.last_evaluation() {
                    self.print_evaluation(evaluation).await?;
                }
                self.refresh_vocabulary();
            }
            Command::Reload => {
                self.session
                    .reload_catalog()
                    .await
                    .map_err(EntryError::Engine)?;
                self.refresh_vocabulary();
                errln!(
                    "reloaded {} ({} tables)",
                    self.session.catalog().path.display(),
                    self.session.catalog().providers.len()
                );
            }
            Command::Save(file) => {
                let script = self.session.definitions_script();
                crate::output::write_atomically(Path::new(&file), script.as_bytes())
                    .map_err(EntryError::Message)?;
                errln!(
                    "saved {} definition(s) to {file}",
                    self.session.listing().len()
                );
            }
        }
        Ok(false)
    }

    /// A table that is a defined segment not evaluated yet gets a hint, not DataFusion's
    /// bare "not found".
    fn explain_sql_error(&self, error: EngineError) -> EntryError {
        let text = error.to_string();
        let unevaluated = self.session.definitions().segments.keys().find(|name| {
            text.contains(&format!("table '{name}' not found"))
                || text.contains(&format!("table '{}' not found", name.to_lowercase()))
        });
        match unevaluated {
            Some(name) => EntryError::Message(format!(
                "segment '{name}' is defined but not evaluated yet: evaluate it first ({name};) — SQL sees the steps of the last evaluation"
            )),
            None => EntryError::Engine(error),
        }
    }

    fn refresh_vocabulary(&self) {
        let catalog = self.session.catalog();
        let mut vocabulary = Vocabulary {
            names: self
                .session
                .listing()
                .into_iter()
                .map(|(name, ..)| name)
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
