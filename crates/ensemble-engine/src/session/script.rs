//! Statements: running and checking scripts, definitions, and how errors are located.

use super::lookahead::{checked_definition, date_of};
use super::prefetch::PrefetchScope;
use super::*;

/// Where an expression given alone (not a script) comes from, in error messages.
pub(super) const EXPRESSION_ORIGIN: &str = "<expression>";

/// The last bare expression of a script whose definitions were applied.
pub(super) struct LastExpression {
    pub(super) expr: SetExpr,
    pub(super) notes: Vec<Diagnostic>,
    pub(super) text: Arc<str>,
}

impl Session {
    /// Runs every statement of `source` in order. A failing statement changes nothing; the
    /// statements before it stay applied.
    pub async fn run_script(
        &mut self,
        source: &str,
        origin: &str,
    ) -> Result<ScriptRun, EngineError> {
        let (text, parsed) = self.start_script(source, origin)?;
        let prefetch = self.script_needs(&parsed.script.statements);
        // The script's reads are prefetched while it runs, and forgotten when it ends or its
        // future is dropped.
        PrefetchScope::replace(self, prefetch)
            .run_statements(&parsed, &text, origin)
            .await
    }

    /// The statements of a parsed script, in order (see [`Session::run_script`]).
    async fn run_statements(
        &mut self,
        parsed: &ensemble_syntax::Parsed,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<ScriptRun, EngineError> {
        let mut run = ScriptRun {
            outcomes: Vec::new(),
            notes: parsed.notes.clone(),
        };
        for statement in &parsed.script.statements {
            let outcome = match &statement.kind {
                StatementKind::Evaluate(expr) => {
                    let notes = parsed
                        .notes
                        .iter()
                        .filter(|n| {
                            n.span.start >= statement.span.start && n.span.end <= statement.span.end
                        })
                        .cloned()
                        .collect();
                    let evaluation = self.evaluate_parsed(expr, notes, text, origin).await?;
                    Outcome::Evaluated(Box::new(evaluation))
                }
                StatementKind::Report(report) => {
                    let source = reports::Source { text, origin };
                    Outcome::Report(Box::new(self.run_report(report, &source).await?))
                }
                _ => self.define(statement, text, origin)?,
            };
            run.outcomes.push(outcome);
        }
        Ok(run)
    }

    /// Checks every statement of `source` without evaluating anything: definitions are
    /// applied as `run_script` would, bare expressions are checked. Every error is
    /// listed once: an error that only says a definition which failed earlier is unknown is a
    /// consequence, and is left out. A syntax error stops at once (`Err`).
    pub fn check_script(&mut self, source: &str, origin: &str) -> Result<ScriptCheck, EngineError> {
        let (text, parsed) = self.start_script(source, origin)?;
        let mut failed = std::collections::HashSet::new();
        let mut errors = Vec::new();
        for statement in &parsed.script.statements {
            let result = match &statement.kind {
                StatementKind::Evaluate(expr) => self
                    .checker()
                    .graph(expr)
                    .map(|_| ())
                    .map_err(|e| self.check_error(e, &text, origin, None)),
                StatementKind::Report(report) => {
                    let source = reports::Source {
                        text: &text,
                        origin,
                    };
                    self.check_report(report, &source)
                }
                _ => self.define(statement, &text, origin).map(|_| ()),
            };
            let Err(error) = result else { continue };
            if matches!(error, EngineError::Cancelled) {
                return Err(error);
            }
            let follow_on = match &error {
                EngineError::Language {
                    diagnostic,
                    source_text,
                    ..
                } => source_text
                    .get(diagnostic.span.start..diagnostic.span.end)
                    .is_some_and(|name| failed.contains(name)),
                _ => false,
            };
            if let StatementKind::Field { name, .. }
            | StatementKind::Segment { name, .. }
            | StatementKind::Partition { name, .. }
            | StatementKind::Score { name, .. } = &statement.kind
            {
                failed.insert(name.name.clone());
            }
            if !follow_on {
                errors.push(error);
            }
        }
        Ok(ScriptCheck {
            statements: parsed.script.statements.len(),
            errors,
            notes: parsed.notes,
        })
    }

    /// Applies a script's definitions (and its `as of`) without evaluating anything: its bare
    /// expressions are checked, its reports skipped, so that loading a script writes no
    /// snapshot and reads no data (a server's definitions). A failing statement changes
    /// nothing; the statements before it stay applied.
    pub fn define_script(&mut self, source: &str, origin: &str) -> Result<(), EngineError> {
        self.define_all(source, origin).map(|_| ())
    }

    /// Applies a script's definitions and checks its bare expressions without evaluating
    /// them; returns the last bare expression (for `explain` and `why` of a script).
    pub(super) fn define_all(
        &mut self,
        source: &str,
        origin: &str,
    ) -> Result<Option<LastExpression>, EngineError> {
        let (text, parsed) = self.start_script(source, origin)?;
        let mut last = None;
        for statement in &parsed.script.statements {
            match &statement.kind {
                StatementKind::Evaluate(expr) => {
                    self.checker()
                        .graph(expr)
                        .map_err(|e| self.check_error(e, &text, origin, None))?;
                    last = Some((expr.clone(), statement.span));
                }
                StatementKind::Report(_) => {}
                _ => {
                    self.define(statement, &text, origin)?;
                }
            }
        }
        Ok(last.map(|(expr, span)| LastExpression {
            expr,
            notes: parsed
                .notes
                .iter()
                .filter(|n| n.span.start >= span.start && n.span.end <= span.end)
                .cloned()
                .collect(),
            text,
        }))
    }

    /// Starts a statement on one set expression: clears a pending interrupt, parses it.
    pub(super) fn start_expression(
        &self,
        expression: &str,
    ) -> Result<(SetExpr, Vec<Diagnostic>, Arc<str>), EngineError> {
        self.interrupt.clear();
        let text: Arc<str> = Arc::from(expression);
        let (expr, notes) = parse_set_expr(expression).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: text.clone(),
            origin: EXPRESSION_ORIGIN.into(),
        })?;
        Ok((expr, notes, text))
    }

    /// Starts a statement run: clears a pending interrupt, parses the whole text.
    pub(super) fn start_script(
        &self,
        source: &str,
        origin: &str,
    ) -> Result<(Arc<str>, ensemble_syntax::Parsed), EngineError> {
        self.interrupt.clear();
        let text: Arc<str> = Arc::from(source);
        let parsed = parse_script(source).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: text.clone(),
            origin: origin.to_string(),
        })?;
        Ok((text, parsed))
    }

    /// Applies a statement that is not a bare expression: `as of`, a field, a segment, a
    /// partition or a score.
    pub(super) fn define(
        &mut self,
        statement: &ensemble_syntax::Statement,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<Outcome, EngineError> {
        let statement_text = statement.to_string();
        Ok(match &statement.kind {
            StatementKind::AsOf(as_of) => {
                if !self.pinned_as_of {
                    let date = date_of(as_of);
                    if date != self.as_of() {
                        // Sizes were counted at another date.
                        self.store.forget_sizes();
                    }
                    self.as_of = Some(date);
                }
                Outcome::AsOf(self.as_of())
            }
            StatementKind::Evaluate(_) | StatementKind::Report(_) => {
                return Err(self.language_error(
                    Diagnostic::error("this statement is run, not defined", statement.span),
                    text,
                    origin,
                ))
            }
            StatementKind::Field { name, .. }
            | StatementKind::Segment { name, .. }
            | StatementKind::Partition { name, .. }
            | StatementKind::Score { name, .. } => {
                let field = matches!(statement.kind, StatementKind::Field { .. });
                self.check_new_name(&name.name, name.span, text, origin, !field)?;
                let definition = checked_definition(&self.checker(), statement)
                    .map_err(|e| self.check_error(e, text, origin, Some(&name.name)))?;
                let outcome = definition.outcome();
                definition.apply(&mut self.definitions);
                self.remember(&name.name, text, origin, statement_text);
                outcome
            }
        })
    }

    /// Evaluates one set expression given as text.
    pub async fn evaluate(&mut self, expression: &str) -> Result<Evaluation, EngineError> {
        let (expr, notes, text) = self.start_expression(expression)?;
        self.evaluate_parsed(&expr, notes, &text, EXPRESSION_ORIGIN)
            .await
    }

    /// Evaluates one set expression at `as_of`, leaving the session's evaluation date as it
    /// was (the library's `evaluate(…, as_of=…)`), also when the evaluation is interrupted.
    pub async fn evaluate_at(
        &mut self,
        expression: &str,
        as_of: NaiveDate,
    ) -> Result<Evaluation, EngineError> {
        let _at = self.at_date(as_of);
        self.evaluate(expression).await
    }

    pub(super) fn remember(
        &mut self,
        name: &str,
        text: &Arc<str>,
        origin: &str,
        statement: String,
    ) {
        if self.sources.contains_key(name) {
            // A redefinition changes its size and the sizes of what uses it.
            self.store.forget_sizes();
        }
        self.sources.insert(
            name.to_string(),
            DefinitionSource {
                text: text.clone(),
                origin: origin.to_string(),
                statement,
            },
        );
        self.order.retain(|n| n != name);
        self.order.push(name.to_string());
    }

    /// Names that would clash with tables (segments are registered as tables) or columns.
    pub(super) fn check_new_name(
        &self,
        name: &str,
        span: ensemble_syntax::Span,
        text: &Arc<str>,
        origin: &str,
        segment: bool,
    ) -> Result<(), EngineError> {
        let schema = &self.catalog.schema;
        let clash = if schema.table_names().any(|t| t == name) {
            Some(format!("'{name}' is already a table of the catalog"))
        } else if name.starts_with("step_") && name[5..].chars().all(|c| c.is_ascii_digit()) {
            Some(format!("'{name}' is reserved for evaluation steps"))
        } else if !segment && schema.universe.schema.field_with_name(name).is_ok() {
            Some(format!(
                "field '{name}' would hide the column {}.{name}",
                schema.universe.table
            ))
        } else {
            None
        };
        match clash {
            Some(message) => Err(self.language_error(
                Diagnostic::error(message, span).with_help("choose another name"),
                text,
                origin,
            )),
            None => Ok(()),
        }
    }

    /// A checker over the catalog and the definitions, stopped by [`Session::interrupter`].
    pub(super) fn checker(&self) -> Checker<'_> {
        Checker::new(&self.catalog.schema, &self.definitions, self.as_of())
            .with_cancel(&self.interrupt.0)
    }

    pub(super) fn language_error(
        &self,
        diagnostic: Diagnostic,
        text: &Arc<str>,
        origin: &str,
    ) -> EngineError {
        EngineError::Language {
            diagnostic: Box::new(diagnostic),
            source_text: text.clone(),
            origin: origin.to_string(),
        }
    }

    /// Renders a check error against the text its span points into: the current text, or the
    /// stored definition it was found in.
    pub(super) fn check_error(
        &self,
        error: CheckError,
        text: &Arc<str>,
        origin: &str,
        defining: Option<&str>,
    ) -> EngineError {
        if error.kind == ensemble_compiler::CheckErrorKind::Cancelled {
            return EngineError::Cancelled;
        }
        let mut diagnostic = error.diagnostic();
        match error.definition.as_deref() {
            Some(name) if Some(name) != defining => {
                if let Some(source) = self.sources.get(name) {
                    diagnostic.message =
                        format!("in the definition of '{name}': {}", diagnostic.message);
                    return EngineError::Language {
                        diagnostic: Box::new(diagnostic),
                        source_text: source.text.clone(),
                        origin: source.origin.clone(),
                    };
                }
                self.language_error(diagnostic, text, origin)
            }
            _ => self.language_error(diagnostic, text, origin),
        }
    }

    pub(super) async fn evaluate_parsed(
        &mut self,
        expr: &SetExpr,
        notes: Vec<Diagnostic>,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<Evaluation, EngineError> {
        let started = Instant::now();
        let graph = self
            .checker()
            .graph(expr)
            .map_err(|e| self.check_error(e, text, origin, None))?;
        let result = self.evaluate_graph(graph, notes, started).await;
        result.map_err(|error| self.locate_overflow(error, text, origin))
    }

    /// An integer overflow found while executing becomes a language error at the operation
    /// that overflowed (in the evaluated text or in the definition it belongs to).
    pub(super) fn locate_overflow(
        &self,
        error: EngineError,
        text: &Arc<str>,
        origin: &str,
    ) -> EngineError {
        let EngineError::Execution { source, .. } = &error else {
            return error;
        };
        let Some(overflow) = ArithmeticOverflow::find(source) else {
            return error;
        };
        let mut check = CheckError::new(
            ensemble_compiler::CheckErrorKind::Type,
            overflow.to_string(),
            overflow.span,
        )
        .with_help("whole numbers are 64-bit: divide first, or compare smaller quantities");
        check.definition = overflow.definition.clone();
        self.check_error(check, text, origin, None)
    }
}
