//! Running report statements: each set of a report is evaluated like any expression (its
//! steps inspectable, reused from the session), then counted on member numbers.

mod audience;
mod kpi;
mod over_time;
mod overlap;
mod snapshots;

use ensemble_syntax::{Ident, Report as ReportStatement, SetExprKind, Span};
use roaring::RoaringBitmap;

use super::prefetch::PrefetchScope;
use super::script::EXPRESSION_ORIGIN;
use super::*;
use crate::report::{Report, ReportBody};

pub use audience::{Audience, AudienceSpec};

/// A set of a report: its label and its expression (a partition stands for its tiers).
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) label: String,
    pub(super) expr: SetExpr,
}

/// Where the report's text comes from, for errors.
pub(super) struct Source<'a> {
    pub(super) text: &'a Arc<str>,
    pub(super) origin: &'a str,
}

impl Session {
    /// Runs one report statement (`overlap vip, clients;`, `kpi statut;`…) given as text,
    /// over the session's definitions.
    pub async fn report(&mut self, statement: &str) -> Result<Report, EngineError> {
        let (text, parsed) = self.start_script(statement, EXPRESSION_ORIGIN)?;
        let mut statements = parsed.script.statements.iter();
        match (statements.next(), statements.next()) {
            (Some(only), None) => match &only.kind {
                StatementKind::Report(report) => {
                    let source = Source {
                        text: &text,
                        origin: EXPRESSION_ORIGIN,
                    };
                    self.run_report(report, &source).await
                }
                _ => Err(self.language_error(not_a_report(only.span), &text, EXPRESSION_ORIGIN)),
            },
            (Some(_), Some(second)) => Err(self.language_error(
                Diagnostic::error("one report at a time", second.span)
                    .with_help("run definitions first, then the report alone"),
                &text,
                EXPRESSION_ORIGIN,
            )),
            (None, _) => {
                Err(self.language_error(not_a_report(Span::new(0, 0)), &text, EXPRESSION_ORIGIN))
            }
        }
    }

    /// Runs a report statement built from a tree rather than text (the server's table
    /// functions read each argument on its own: `ensemble_syntax::parse_set_list`,
    /// `parse_name`, `parse_report`). `text` is what the tree's spans point into; errors are
    /// shown against it.
    pub async fn report_parsed(
        &mut self,
        report: &ReportStatement,
        text: &str,
    ) -> Result<Report, EngineError> {
        self.interrupt.clear();
        let text: Arc<str> = Arc::from(text);
        let source = Source {
            text: &text,
            origin: EXPRESSION_ORIGIN,
        };
        self.run_report(report, &source).await
    }

    /// Runs a parsed report statement.
    pub(super) async fn run_report(
        &mut self,
        report: &ReportStatement,
        source: &Source<'_>,
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        let as_of = self.as_of();
        // What a report prefetches is for its own evaluations only: the scope puts the
        // script's set back when the report ends or its future is dropped.
        let body = PrefetchScope::extend(self)
            .report_body(report, source)
            .await?;
        let as_of = match report {
            ReportStatement::Transition { range, .. } | ReportStatement::Trend { range, .. } => {
                range.to
            }
            _ => as_of,
        };
        Ok(Report {
            statement: report.to_string(),
            as_of,
            elapsed: started.elapsed(),
            body,
        })
    }

    async fn report_body(
        &mut self,
        report: &ReportStatement,
        source: &Source<'_>,
    ) -> Result<ReportBody, EngineError> {
        Ok(match report {
            ReportStatement::Overlap { sets } => {
                ReportBody::Overlap(self.overlap_report(sets, source).await?)
            }
            ReportStatement::Kpi { sets, measures } => {
                ReportBody::Kpi(self.kpi_report(sets, measures, source).await?)
            }
            ReportStatement::Transition { partition, range } => {
                ReportBody::Transition(self.transition_report(partition, range, source).await?)
            }
            ReportStatement::Trend { sets, range, every } => {
                ReportBody::Trend(self.trend_report(sets, range, every, source).await?)
            }
            ReportStatement::Snapshot { name } => {
                ReportBody::Snapshot(self.snapshot(name, source).await?)
            }
            ReportStatement::Diff { name, range } => {
                ReportBody::Diff(self.diff_report(name, range, source)?)
            }
        })
    }

    /// The sets of a report: each as written, a partition's name standing for its tiers.
    pub(super) fn targets(&self, sets: &[SetExpr]) -> Vec<Target> {
        let mut targets = Vec::new();
        for set in sets {
            if let SetExprKind::Segment(name) = &set.kind {
                if let Some(partition) = self.definitions.partitions.get(&name.name) {
                    for tier in partition.tier_names() {
                        targets.push(tier_target(name, tier));
                    }
                    continue;
                }
            }
            targets.push(Target {
                label: set.to_string(),
                expr: set.clone(),
            });
        }
        targets
    }

    /// Makes the first features pass at each of `dates` read what every target will read
    /// there: one scan per related table and date for the whole report.
    pub(super) fn prefetch_targets(&mut self, targets: &[Target], dates: &[NaiveDate]) {
        for date in dates {
            let checker = Checker::new(&self.catalog.schema, &self.definitions, *date);
            let mut needs = ensemble_compiler::Needs::default();
            for target in targets {
                if let Ok(graph) = checker.graph(&target.expr) {
                    needs.extend(&graph.needs());
                }
            }
            self.prefetch.entry(*date).or_default().extend(&needs);
        }
    }

    /// `outputs` (the universe key first) computed per member at the session's date over the
    /// features table holding at least `needs` (the session's own, extended if need be).
    pub(super) async fn project_features(
        &mut self,
        needs: ensemble_compiler::Needs,
        outputs: Vec<datafusion::logical_expr::Expr>,
        context: &str,
    ) -> Result<(Vec<RecordBatch>, SchemaRef), EngineError> {
        let (fingerprint, _) = self.checked_scope().await?;
        let scope = store::CacheScope {
            as_of: self.as_of(),
            fingerprint,
        };
        let (_, features) = self.features_for(needs, scope).await?;
        let plan = LogicalPlanBuilder::scan(planner::FEATURES_TABLE, features, None)
            .and_then(|b| b.project(outputs))
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution(context, e))?;
        self.collect(plan, context).await
    }

    /// The members of `expr` at `date` (a full point-in-time evaluation; the session's date
    /// is unchanged).
    pub(super) async fn members_at(
        &mut self,
        expr: &SetExpr,
        date: NaiveDate,
        source: &Source<'_>,
    ) -> Result<Arc<RoaringBitmap>, EngineError> {
        let _at = self.at_date(date);
        let result = self
            .evaluate_parsed(expr, Vec::new(), source.text, source.origin)
            .await;
        Ok(result?.numbers)
    }

    /// The universe's members at `date`.
    pub(super) async fn universe_at(
        &mut self,
        date: NaiveDate,
        source: &Source<'_>,
    ) -> Result<Arc<RoaringBitmap>, EngineError> {
        let all = SetExpr {
            kind: SetExprKind::All,
            span: Span::new(0, 0),
        };
        self.members_at(&all, date, source).await
    }

    /// The tiers of partition `name` as report targets, or an error naming what it is.
    pub(super) fn partition_targets(
        &self,
        name: &Ident,
        source: &Source<'_>,
    ) -> Result<(Vec<Target>, bool), EngineError> {
        match self.definitions.partitions.get(&name.name) {
            Some(partition) => Ok((
                partition
                    .tier_names()
                    .map(|tier| tier_target(name, tier))
                    .collect(),
                partition.otherwise.is_some(),
            )),
            None => Err(self.language_error(
                self.unknown_name(name, "partition"),
                source.text,
                source.origin,
            )),
        }
    }

    /// `unknown partition 'x'`, with the closest name of that kind or what `x` is instead.
    pub(super) fn unknown_name(&self, name: &Ident, kind: &str) -> Diagnostic {
        let definitions = &self.definitions;
        let message = if definitions.segments.contains_key(&name.name) {
            format!("'{}' is a segment, not a {kind}", name.name)
        } else if definitions.contains(&name.name) {
            format!("'{}' is not a {kind}", name.name)
        } else {
            format!("unknown {kind} '{}'", name.name)
        };
        let candidates: Vec<&String> = match kind {
            "partition" => definitions.partitions.keys().collect(),
            _ => definitions
                .segments
                .keys()
                .chain(definitions.partitions.keys())
                .collect(),
        };
        let diagnostic = Diagnostic::error(message, name.span);
        match ensemble_syntax::suggest(&name.name, candidates.iter().map(|c| c.as_str())) {
            Some(close) => diagnostic.with_help(format!("did you mean '{close}'?")),
            None if candidates.is_empty() => diagnostic.with_help(format!("define a {kind} first")),
            None => diagnostic.with_help(format!(
                "known: {}",
                candidates
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// Tier `tier` of partition `partition`, as a set expression.
fn tier_target(partition: &Ident, tier: &str) -> Target {
    Target {
        label: format!("{}.{tier}", partition.name),
        expr: SetExpr {
            kind: SetExprKind::Tier {
                partition: partition.clone(),
                tier: Ident {
                    name: tier.to_string(),
                    span: partition.span,
                },
            },
            span: partition.span,
        },
    }
}

fn not_a_report(span: Span) -> Diagnostic {
    Diagnostic::error("expected a report", span).with_help(
        "write 'overlap a, b', 'kpi SET', 'transition P from D1 to D2', 'trend SET from D1 to D2 \
         every month', 'snapshot NAME' or 'diff NAME from D1 to D2'",
    )
}

impl Session {
    /// Checks a report statement without running it: its sets, its partition or segment, its
    /// measures.
    pub(super) fn check_report(
        &self,
        report: &ReportStatement,
        source: &Source<'_>,
    ) -> Result<(), EngineError> {
        let check_sets = |sets: &[SetExpr]| {
            sets.iter().try_for_each(|set| {
                self.checker()
                    .graph(set)
                    .map(|_| ())
                    .map_err(|e| self.check_error(e, source.text, source.origin, None))
            })
        };
        match report {
            ReportStatement::Overlap { sets } | ReportStatement::Trend { sets, .. } => {
                check_sets(sets)
            }
            ReportStatement::Kpi { sets, measures } => {
                check_sets(sets)?;
                let mut lowerer = ensemble_compiler::CriterionLowerer::new(
                    &self.catalog.schema,
                    &self.definitions,
                    self.as_of(),
                );
                measures.iter().try_for_each(|m| {
                    lowerer
                        .value(&m.expr)
                        .map(|_| ())
                        .map_err(|e| self.check_error(e, source.text, source.origin, None))
                })
            }
            ReportStatement::Transition { partition, .. } => {
                self.partition_targets(partition, source).map(|_| ())
            }
            ReportStatement::Snapshot { name } => {
                let known = self.definitions.segments.contains_key(&name.name)
                    || self.definitions.partitions.contains_key(&name.name);
                if known {
                    Ok(())
                } else {
                    Err(self.language_error(
                        self.unknown_name(name, "segment or partition"),
                        source.text,
                        source.origin,
                    ))
                }
            }
            ReportStatement::Diff { .. } => Ok(()),
        }
    }
}

/// Writes `batches` as Parquet at `path` through [`ensemble_fs::create`] (creating its
/// directory; a regular file is replaced atomically, a symbolic link resolved), with
/// `metadata` as the file's key-value metadata.
pub(super) fn write_parquet(
    path: &std::path::Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    metadata: Vec<(&str, String)>,
) -> Result<(), EngineError> {
    use parquet::arrow::ArrowWriter;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    let failed = |e: &dyn std::fmt::Display| snapshots::snapshot_error(path, "write", e);
    if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory).map_err(|e| {
            snapshots::snapshot_error(directory, "create the snapshot directory", e)
        })?;
    }
    let metadata = metadata
        .into_iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v))
        .collect();
    let properties = WriterProperties::builder()
        .set_key_value_metadata(Some(metadata))
        .build();
    // Through the safe writer: a symbolic link is resolved (it stays a link), a device or a
    // FIFO is written in place, a regular file replaced atomically.
    let output = ensemble_fs::create(path)?;
    let mut writer =
        ArrowWriter::try_new(output, schema, Some(properties)).map_err(|e| failed(&e))?;
    for batch in batches {
        writer.write(batch).map_err(|e| failed(&e))?;
    }
    let output = writer.into_inner().map_err(|e| failed(&e))?;
    output.finish()?;
    Ok(())
}
