//! The REPL: notebook-style exploration of segments (rustyline; backslash commands as in psql
//! and datafusion-cli; Ctrl-C cancels a running evaluation, not the session).

mod commands;
mod helper;

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ensemble::arrow::record_batch::RecordBatch;
use ensemble::{group_thousands, EngineError, Evaluation, Outcome, Session};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::output::{render_batches, write_batches};
use commands::Command;
use helper::{is_complete, ReplHelper, Vocabulary};

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

    async fn piped(&mut self) -> bool {
        let mut input = String::new();
        if let Err(error) = std::io::stdin().read_to_string(&mut input) {
            eprintln!("Error: standard input: {error}");
            return false;
        }
        let mut buffer = String::new();
        for line in input.lines() {
            if buffer.trim().is_empty() && line.trim().is_empty() {
                continue;
            }
            buffer.push_str(line);
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
                eprintln!("Error: cannot start the line editor: {error}");
                return;
            }
        };
        editor.set_helper(Some(ReplHelper {
            vocabulary: self.vocabulary.clone(),
            color: self.color,
        }));
        let mut interrupts = match Interrupts::listen() {
            Ok(interrupts) => interrupts,
            Err(error) => {
                eprintln!("Error: cannot listen for Ctrl-C: {error}");
                return;
            }
        };
        let history = history_path();
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        println!(
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
                        None => eprintln!("cancelled; the session is as it was before this entry"),
                    }
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(error) => {
                    eprintln!("Error: {error}");
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
            EntryError::Engine(EngineError::Language {
                diagnostic,
                source_text,
                origin,
            }) if origin == "<repl>" => {
                let _ = source_text;
                eprint!("{}", diagnostic.render(entry, "<repl>", self.color));
            }
            EntryError::Engine(error) => eprint!("{}", error.render(self.color)),
            EntryError::Message(message) => eprintln!("Error: {message}"),
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
            eprint!("{}", note.render(entry, "<repl>", self.color));
        }
        for outcome in &run.outcomes {
            match outcome {
                Outcome::AsOf(date) => println!("as of {date}"),
                Outcome::Field(name) => println!("field {name} defined"),
                Outcome::Segment(name) => println!("segment {name} defined"),
                Outcome::Evaluated(evaluation) => self.print_evaluation(evaluation).await?,
            }
        }
        self.refresh_vocabulary();
        Ok(false)
    }

    async fn print_evaluation(&self, evaluation: &Evaluation) -> Result<(), EntryError> {
        print!("{}", evaluation.tree());
        let timing = if self.settings.timing {
            format!(" in {:.1?}", evaluation.elapsed)
        } else {
            String::new()
        };
        println!(
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
        let text = render_batches(batches, &self.settings.format, self.settings.max_rows)
            .map_err(EntryError::Message)?;
        print!("{text}");
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Result<bool, EntryError> {
        match command {
            Command::Quit => return Ok(true),
            Command::Help(topic) => print!("{}", commands::help(topic.as_deref())),
            Command::Tables => crate::datamart::print_tables(&self.session),
            Command::Describe(table) => {
                let description = self
                    .session
                    .describe(&table)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                print!("{}", crate::datamart::render_description(description));
            }
            Command::Segments => {
                let listing = self.session.listing();
                if listing.is_empty() {
                    println!("no definitions yet");
                }
                for (name, segment, statement, size) in listing {
                    let size = match (segment, size) {
                        (true, Some(n)) => format!("{:>12}", group_thousands(n)),
                        (true, None) => format!("{:>12}", "not run"),
                        (false, _) => format!("{:>12}", "field"),
                    };
                    println!("{size}  {name:<24} {statement}");
                }
            }
            Command::Steps => match self.session.last_evaluation() {
                None => println!("nothing evaluated yet"),
                Some(evaluation) => {
                    print!("{}", evaluation.tree());
                    for step in &evaluation.steps {
                        let how = if step.reused {
                            "reused".to_string()
                        } else {
                            format!("{:.1?}", step.elapsed)
                        };
                        println!(
                            "  #{:<3} {:<8} {:>12} members  {how}",
                            step.id,
                            step.table,
                            group_thousands(step.count)
                        );
                    }
                }
            },
            Command::Show(target, limit) => {
                let batches = self
                    .session
                    .preview(&target, limit.unwrap_or(self.settings.max_rows))
                    .await
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
                print!("{explanation}");
            }
            Command::Sql(query) => {
                let batches = self.session.sql(&query).await.map_err(EntryError::Engine)?;
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
                println!("as of {date}");
            }
            Command::Timing(on) => {
                self.settings.timing = on;
                println!("timing {}", if on { "on" } else { "off" });
            }
            Command::Format(format) => {
                println!("format {format}");
                self.settings.format = format;
            }
            Command::MaxRows(n) => {
                self.settings.max_rows = n.max(1);
                println!("maxrows {}", self.settings.max_rows);
            }
            Command::Export(what, path) => {
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
                println!("wrote {} members to {path}", group_thousands(rows));
            }
            Command::Load(file) => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| EntryError::Message(format!("{file}: {e}")))?;
                let run = self
                    .session
                    .run_script(&text, &file)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                println!("{file}: {} statement(s)", run.outcomes.len());
                if let Some(evaluation) = run.last_evaluation() {
                    self.print_evaluation(evaluation).await?;
                }
                self.refresh_vocabulary();
            }
            Command::Save(file) => {
                let script = self.session.definitions_script();
                crate::output::write_atomically(Path::new(&file), script.as_bytes())
                    .map_err(EntryError::Message)?;
                println!(
                    "saved {} definition(s) to {file}",
                    self.session.listing().len()
                );
            }
        }
        Ok(false)
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

/// Ctrl-C as signals, listened to for the whole REPL session. The listener exists before any
/// entry starts, so a Ctrl-C that arrives while an entry is still in a synchronous stretch
/// (parsing, planning) is not lost: it cancels the entry as soon as the entry yields.
struct Interrupts {
    #[cfg(unix)]
    signals: tokio::signal::unix::Signal,
    #[cfg(windows)]
    signals: tokio::signal::windows::CtrlC,
}

impl Interrupts {
    fn listen() -> std::io::Result<Interrupts> {
        Ok(Interrupts {
            #[cfg(unix)]
            signals: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?,
            #[cfg(windows)]
            signals: tokio::signal::windows::ctrl_c()?,
        })
    }

    /// Drops a Ctrl-C that arrived between entries, so that it does not cancel the next one.
    fn forget_pending(&mut self) {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        while let std::task::Poll::Ready(Some(())) = self.signals.poll_recv(&mut context) {}
    }

    /// The next Ctrl-C.
    async fn next(&mut self) {
        self.signals.recv().await;
    }
}

/// A progress spinner on stderr that shows up after a delay (indicatif draws only on a
/// terminal). Output must not interleave with it: whoever prints a result first calls
/// [`Progress::stop`], and dropping the guard of [`Progress::start`] stops it too (an entry
/// cancelled by Ctrl-C).
#[derive(Clone, Default)]
struct Progress {
    state: Arc<Mutex<ProgressState>>,
}

#[derive(Default)]
struct ProgressState {
    /// Bumped by each start and each stop, so a stale timer never shows a spinner.
    generation: u64,
    bar: Option<indicatif::ProgressBar>,
}

/// Stops the spinner when dropped.
struct ProgressGuard(Progress);

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Progress {
    /// Shows `message` with a spinner if the guard is still alive after `delay`.
    fn start(&self, delay: Duration, message: &'static str) -> ProgressGuard {
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
    fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            if let Some(bar) = state.bar.take() {
                bar.finish_and_clear();
            }
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
