//! Table functions: `segment('expr' [, 'date'])` returns the members of any expression;
//! `overlap`, `kpi`, `transition` and `report` return a report's table. Each runs in the
//! engine session when the query is planned, under the server's timeout; the language's
//! errors come back as SQL errors with their caret.
//!
//! Each argument is read on its own by the language's parser (a list of sets, a name, a date,
//! a whole report) and the engine is given the statement's tree: no argument is spliced into
//! statement text, so a quote, a `;` or a keyword in one cannot change what runs.

use std::sync::{Arc, Weak};

use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use ensemble::syntax::{self, DateRange, ParseError, Report as ReportStatement, Span};
use ensemble::{EngineError, Session};

use crate::state::Shared;
use crate::tables::set_view;

/// The report kinds a table function may run: the ones that only read.
const READ_ONLY_REPORTS: [&str; 4] = ["overlap", "kpi", "transition", "trend"];

/// Whether `report` only reads: snapshots write files, and diffs read them.
fn only_reads(report: &ReportStatement) -> bool {
    match report {
        ReportStatement::Overlap { .. }
        | ReportStatement::Kpi { .. }
        | ReportStatement::Transition { .. }
        | ReportStatement::Trend { .. } => true,
        ReportStatement::Snapshot { .. } | ReportStatement::Diff { .. } => false,
    }
}

/// Registers the table functions in `ctx`.
pub(crate) fn register(ctx: &SessionContext, shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    for kind in [
        Kind::Segment,
        Kind::Report,
        Kind::Overlap,
        Kind::Kpi,
        Kind::Transition,
    ] {
        ctx.register_udtf(
            kind.name(),
            Arc::new(Function {
                kind,
                shared: weak.clone(),
            }),
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Segment,
    Report,
    Overlap,
    Kpi,
    Transition,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Segment => "segment",
            Kind::Report => "report",
            Kind::Overlap => "overlap",
            Kind::Kpi => "kpi",
            Kind::Transition => "transition",
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Kind::Segment => "segment('set expression' [, 'YYYY-MM-DD'])",
            Kind::Report => "report('kpi statut' [, 'table'])",
            Kind::Overlap => "overlap('set, set, …' [, 'matrix' | 'pairs' | 'combinations'])",
            Kind::Kpi => "kpi('set or partition, …')",
            Kind::Transition => {
                "transition('partition', 'YYYY-MM-DD', 'YYYY-MM-DD' [, 'counts' | 'row_pct'])"
            }
        }
    }
}

#[derive(Debug)]
struct Function {
    kind: Kind,
    shared: Weak<Shared>,
}

impl TableFunctionImpl for Function {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| DataFusionError::Plan("the server is stopping".into()))?;
        let texts = self.texts(args.exprs())?;
        if self.kind == Kind::Segment {
            return self.segment(&shared, &texts);
        }
        let (report, table) = self.report(&texts)?;
        report_table(&shared, &report, &texts[0], table)
    }
}

impl Function {
    /// The arguments as text: string literals, or dates; anything else is an error naming
    /// the function's usage.
    fn texts(&self, exprs: &[Expr]) -> Result<Vec<String>> {
        let (least, most) = match self.kind {
            Kind::Segment | Kind::Report | Kind::Overlap => (1, 2),
            Kind::Kpi => (1, 1),
            Kind::Transition => (3, 4),
        };
        if exprs.len() < least || exprs.len() > most {
            return Err(self.misuse(&format!("{} argument(s) given", exprs.len())));
        }
        exprs.iter().map(|e| self.text(e)).collect()
    }

    fn text(&self, expr: &Expr) -> Result<String> {
        match expr {
            Expr::Literal(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
                _,
            ) => Ok(s.clone()),
            Expr::Literal(value @ ScalarValue::Date32(Some(_)), _) => Ok(value.to_string()),
            Expr::Cast(cast) => self.text(&cast.expr),
            Expr::Placeholder(p) => Err(self.misuse(&format!(
                "the parameter {} is bound after planning; pass the text itself (with \
                 psycopg: a ClientCursor, or the query without parameters)",
                p.id
            ))),
            other => Err(self.misuse(&format!("{other} is not a text literal"))),
        }
    }

    /// The report the arguments describe, each read on its own, and the table asked for. Its
    /// spans point into the first argument.
    fn report<'t>(&self, texts: &'t [String]) -> Result<(ReportStatement, Option<&'t str>)> {
        let first = texts[0].as_str();
        let language = |error: ParseError| language_error(&error, first);
        let report = match self.kind {
            Kind::Segment | Kind::Report => syntax::parse_report(first).map_err(language)?.0,
            Kind::Overlap => ReportStatement::Overlap {
                sets: syntax::parse_set_list(first).map_err(language)?.0,
            },
            Kind::Kpi => ReportStatement::Kpi {
                sets: syntax::parse_set_list(first).map_err(language)?.0,
                measures: Vec::new(),
            },
            Kind::Transition => {
                let date = |text: &str| {
                    ensemble::parse_date(text).map_err(|e| self.misuse(&e.to_string()))
                };
                let (from, to) = (date(&texts[1])?, date(&texts[2])?);
                if from > to {
                    return Err(self.misuse(&format!("{from} is after {to}")));
                }
                ReportStatement::Transition {
                    partition: syntax::parse_name(first).map_err(language)?,
                    range: DateRange {
                        from,
                        to,
                        span: Span::new(0, first.len()),
                    },
                }
            }
        };
        let table = match self.kind {
            Kind::Kpi => None,
            Kind::Transition => texts.get(3),
            _ => texts.get(1),
        };
        Ok((report, table.map(String::as_str)))
    }

    fn misuse(&self, what: &str) -> DataFusionError {
        DataFusionError::Plan(format!("{what}: use {}", self.kind.usage()))
    }

    fn segment(&self, shared: &Arc<Shared>, texts: &[String]) -> Result<Arc<dyn TableProvider>> {
        let expression = texts[0].clone();
        let date = match texts.get(1) {
            None => None,
            Some(text) => {
                Some(ensemble::parse_date(text).map_err(|e| self.misuse(&e.to_string()))?)
            }
        };
        let label = format!("segment('{expression}')");
        in_session(shared, async |session: &mut Session| {
            // The argument is read as one set expression, nothing else; a date applies to
            // this evaluation only (restored even if the query is dropped).
            let evaluation = match date {
                Some(date) => session.evaluate_at(&expression, date).await?,
                None => session.evaluate(&expression).await?,
            };
            let catalog = session.catalog();
            let table = &catalog.schema.universe.table;
            let universe =
                catalog
                    .providers
                    .get(table)
                    .cloned()
                    .ok_or_else(|| EngineError::Config {
                        message: format!("the catalog has no table {table}"),
                    })?;
            Ok((evaluation, universe, table.clone()))
        })
        .and_then(|(evaluation, universe, table)| {
            set_view(shared, &label, &evaluation, &universe, &table)
        })
    }
}

/// A language error in an argument, with its caret under the argument's text.
fn language_error(error: &ParseError, text: &str) -> DataFusionError {
    let rendered = error.diagnostic().render(text, "<argument>", false);
    DataFusionError::Plan(rendered.trim_end().to_string())
}

/// One table of a report run in the session; `text` is what its spans point into.
fn report_table(
    shared: &Arc<Shared>,
    report: &ReportStatement,
    text: &str,
    table: Option<&str>,
) -> Result<Arc<dyn TableProvider>> {
    // Decided on the parsed statement, not on its first word.
    if !only_reads(report) {
        return Err(DataFusionError::Plan(format!(
            "'{report}' is not a report the server runs: it runs {} (snapshots write files, \
             and the server is read-only)",
            READ_ONLY_REPORTS.join(", ")
        )));
    }
    let report = in_session(shared, async |session: &mut Session| {
        session.report_parsed(report, text).await
    })?;
    let tables = report
        .batches()
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    let chosen = match table {
        None => tables.first(),
        Some(wanted) => tables.iter().find(|(n, _)| n == wanted),
    };
    let Some((_, batch)) = chosen else {
        return Err(DataFusionError::Plan(format!(
            "{} has no table '{}': its tables are {}",
            report.kind(),
            table.unwrap_or_default(),
            names.join(", ")
        )));
    };
    Ok(Arc::new(MemTable::try_new(
        batch.schema(),
        vec![vec![batch.clone()]],
    )?))
}

/// Runs `work` on the engine session from a table function (called synchronously while a
/// query is planned): waits for the session, interrupts it at the server's timeout, and
/// turns the engine's errors into SQL errors that keep their caret.
fn in_session<T, F>(shared: &Arc<Shared>, work: F) -> Result<T>
where
    F: AsyncFnOnce(&mut Session) -> std::result::Result<T, EngineError>,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    let handle = Handle::try_current()
        .map_err(|_| DataFusionError::Plan("table functions need the server's runtime".into()))?;
    if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
        return Err(DataFusionError::Plan(
            "table functions need a multi-threaded runtime".into(),
        ));
    }
    let timeout = shared.config.limits.timeout;
    tokio::task::block_in_place(|| {
        handle.block_on(async {
            let mut session = shared.session.lock().await;
            let interrupter = session.interrupter();
            let timer = tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                interrupter.interrupt();
            });
            let result = work(&mut session).await;
            timer.abort();
            result.map_err(|e| match e {
                EngineError::Cancelled => DataFusionError::ResourcesExhausted(format!(
                    "the evaluation took longer than the server's query timeout of {} s \
                     (--query-timeout)",
                    timeout.as_secs()
                )),
                other => DataFusionError::Plan(other.render(false).trim_end().to_string()),
            })
        })
    })
}
