//! Running backslash commands.

use std::path::Path;

use ensemble::arrow::record_batch::RecordBatch;
use ensemble::{group_thousands, DefinitionKind, EngineError};

use super::commands::{self, Command};
use super::{EntryError, Repl};
use crate::output::write_batches;
use crate::stdio::{errln, out, outln};

impl Repl {
    pub(super) async fn command(&mut self, command: Command) -> Result<bool, EntryError> {
        match command {
            Command::Quit => return Ok(true),
            Command::Help(topic) => out!("{}", commands::help(topic.as_deref())),
            Command::Tables => crate::commands::tables::print_tables(&self.session),
            Command::Describe(table) => {
                let description = self
                    .session
                    .describe(&table)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                out!(
                    "{}",
                    crate::commands::tables::render_description(description)
                );
            }
            Command::Segments => self.list_definitions(),
            Command::Exclusive(sets) => {
                let report = self
                    .session
                    .check_exclusive(&sets)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                out!("{report}");
            }
            Command::Why(key, expression) => {
                let why = self
                    .session
                    .why(&key, &expression)
                    .await
                    .map_err(|e| self.expression_error(e, &expression))?;
                self.progress.stop();
                out!("{why}");
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
            Command::Show(target, limit) => self.show(target, limit).await?,
            Command::Explain(expression) => {
                let explanation = self
                    .session
                    .explain(&expression)
                    .map_err(|e| self.expression_error(e, &expression))?;
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
                    ensemble::parse_date(&text)
                        .map_err(|e| EntryError::Message(format!("{e}, or today")))?
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
            Command::Export(what, path) => self.export(what, path).await?,
            Command::Audience(spec, path) => {
                let audience = self
                    .session
                    .audience(&spec)
                    .await
                    .map_err(EntryError::Engine)?;
                self.session
                    .write_audience(&audience, Path::new(&path))
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                errln!(
                    "wrote {} members to {path} (and the SQL table audience)",
                    group_thousands(audience.members)
                );
            }
            Command::Chart(what, path) => {
                let report = self
                    .session
                    .report(&what)
                    .await
                    .map_err(EntryError::Engine)?;
                self.progress.stop();
                ensemble::charts::write_chart(&report, Path::new(&path))
                    .map_err(|e| EntryError::Message(e.to_string()))?;
                out!("{report}");
                errln!("wrote {path}");
            }
            Command::Load(file) => self.load(file).await?,
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

    async fn show(&mut self, target: String, limit: Option<usize>) -> Result<(), EntryError> {
        let limit = limit.unwrap_or(self.settings.max_rows);
        let batches = match self.session.preview(&target, limit).await {
            // A segment defined but not in the last evaluation: evaluate it.
            Err(EngineError::UnknownStep { .. })
                if self.session.definitions().names_a_set(&target) =>
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
        Ok(())
    }

    async fn export(&mut self, what: String, path: String) -> Result<(), EntryError> {
        if commands::is_report(&what) {
            let report = self
                .session
                .report(&what)
                .await
                .map_err(EntryError::Engine)?;
            let written = crate::commands::report::export_report(&report, Path::new(&path))
                .map_err(EntryError::Message)?;
            self.progress.stop();
            for file in written {
                errln!("wrote {}", file.display());
            }
            return Ok(());
        }
        if let Some(query) = commands::export_query(&what) {
            let batches = self.session.sql(query).await.map_err(EntryError::Engine)?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            write_batches(&batches, Path::new(&path)).map_err(EntryError::Message)?;
            self.progress.stop();
            errln!("wrote {} rows to {path}", group_thousands(rows));
            return Ok(());
        }
        let table = match self.session.last_evaluation().and_then(|e| {
            e.steps
                .iter()
                .find(|s| {
                    s.table == what || s.names.contains(&what) || format!("#{}", s.id) == what
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
        Ok(())
    }

    async fn load(&mut self, file: String) -> Result<(), EntryError> {
        let text =
            ensemble::fs::read_text_limited(Path::new(&file), ensemble::fs::DEFAULT_READ_LIMIT)
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
        Ok(())
    }

    /// `\\segments`: every definition with its last size; a partition's tiers below it.
    fn list_definitions(&self) {
        let listing = self.session.listing();
        if listing.is_empty() {
            outln!("no definitions yet");
        }
        let size = |kind: DefinitionKind, size: Option<usize>| match (kind, size) {
            (DefinitionKind::Segment | DefinitionKind::Partition, Some(n)) => {
                format!("{:>12}", group_thousands(n))
            }
            (DefinitionKind::Segment | DefinitionKind::Partition, None) => {
                format!("{:>12}", "not run")
            }
            (kind, _) => format!("{:>12}", kind.to_string()),
        };
        for listed in listing {
            let statement = if listed.kind == DefinitionKind::Partition {
                format!("partition {} ({} tiers)", listed.name, listed.tiers.len())
            } else {
                listed.statement.clone()
            };
            outln!(
                "{}  {:<24} {statement}",
                size(listed.kind, listed.size),
                listed.name
            );
            for (tier, tier_size) in &listed.tiers {
                outln!("{}    {tier}", size(DefinitionKind::Segment, *tier_size));
            }
        }
    }

    /// An error in an expression given to a command, rendered against that expression.
    fn expression_error(&self, error: EngineError, expression: &str) -> EntryError {
        match error {
            EngineError::Language {
                diagnostic,
                source_text,
                ..
            } if source_text.as_ref() == expression => {
                EntryError::Message(diagnostic.render(expression, "<expression>", self.color))
            }
            other => EntryError::Engine(other),
        }
    }
}
