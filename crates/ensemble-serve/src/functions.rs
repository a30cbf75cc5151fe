//! Table functions: `segment('expr' [, 'date'])` returns the members of any expression;
//! `overlap`, `kpi`, `transition` and `report` return a report's table. Each runs in the
//! engine session when the query is planned, under the server's timeout; the language's
//! errors come back as SQL errors with their caret.

use std::sync::{Arc, Weak};

use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use ensemble::{EngineError, Session};

use crate::state::Shared;
use crate::tables::set_view;

/// The report kinds a table function may run: the ones that only read.
const READ_ONLY_REPORTS: [&str; 4] = ["overlap", "kpi", "transition", "trend"];

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
        let arg = |i: usize| texts.get(i).cloned().unwrap_or_default();
        let (statement, table) = match self.kind {
            Kind::Segment => return self.segment(&shared, &texts),
            Kind::Report => (arg(0), texts.get(1).cloned()),
            Kind::Overlap => (format!("overlap {}", arg(0)), texts.get(1).cloned()),
            Kind::Kpi => (format!("kpi {}", arg(0)), None),
            Kind::Transition => (
                format!("transition {} from {} to {}", arg(0), arg(1), arg(2)),
                texts.get(3).cloned(),
            ),
        };
        report_table(&shared, &statement, table.as_deref())
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

    fn misuse(&self, what: &str) -> DataFusionError {
        DataFusionError::Plan(format!("{what}: use {}", self.kind.usage()))
    }

    fn segment(&self, shared: &Arc<Shared>, texts: &[String]) -> Result<Arc<dyn TableProvider>> {
        let expression = texts[0].clone();
        let date = match texts.get(1) {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<chrono::NaiveDate>()
                    .map_err(|_| self.misuse(&format!("'{text}' is not a date (YYYY-MM-DD)")))?,
            ),
        };
        let label = format!("segment('{expression}')");
        in_session(shared, async |session: &mut Session| {
            let previous = session.as_of();
            if let Some(date) = date {
                session.set_as_of(date);
            }
            let evaluation = session.evaluate(&expression).await;
            if date.is_some() {
                session.set_as_of(previous);
            }
            let evaluation = evaluation?;
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

/// One table of a report run in the session.
fn report_table(
    shared: &Arc<Shared>,
    statement: &str,
    table: Option<&str>,
) -> Result<Arc<dyn TableProvider>> {
    let kind = statement
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !READ_ONLY_REPORTS.contains(&kind.as_str()) {
        return Err(DataFusionError::Plan(format!(
            "'{statement}' is not a report the server runs: it runs {} (snapshots write files, \
             and the server is read-only)",
            READ_ONLY_REPORTS.join(", ")
        )));
    }
    let report = in_session(shared, async |session: &mut Session| {
        session.report(statement).await
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
