//! Definitions checked apart from the session, and the look-ahead of a script: the values
//! every bare expression of a script will read, so that the run's first features pass
//! computes them all (one scan per related table for the whole script, not one per
//! expression that reads a new aggregate).

use std::collections::HashMap;

use chrono::NaiveDate;
use ensemble_compiler::{CheckError, Checker, Definitions, Needs, PartitionDef, ScoreDef};
use ensemble_syntax::{AsOf, Statement, StatementKind};

use super::{Outcome, Session, StepOp};

/// A definition statement that passed its checks, ready to be added to definitions.
pub(super) enum CheckedDefinition {
    Field {
        name: String,
        expr: ensemble_syntax::Expr,
        ty: ensemble_compiler::ValueType,
    },
    Segment {
        name: String,
        expr: ensemble_syntax::SetExpr,
    },
    Partition {
        name: String,
        partition: PartitionDef,
    },
    Score {
        name: String,
        score: ScoreDef,
    },
}

impl CheckedDefinition {
    /// What running the statement reports.
    pub(super) fn outcome(&self) -> Outcome {
        match self {
            CheckedDefinition::Field { name, .. } => Outcome::Field(name.clone()),
            CheckedDefinition::Segment { name, .. } => Outcome::Segment(name.clone()),
            CheckedDefinition::Partition { name, .. } => Outcome::Partition(name.clone()),
            CheckedDefinition::Score { name, .. } => Outcome::Score(name.clone()),
        }
    }

    /// Adds the definition (replacing one of the same name).
    pub(super) fn apply(self, definitions: &mut Definitions) {
        match self {
            CheckedDefinition::Field { name, expr, ty } => {
                definitions.define_field(&name, expr, ty)
            }
            CheckedDefinition::Segment { name, expr } => definitions.define_segment(&name, expr),
            CheckedDefinition::Partition { name, partition } => {
                definitions.define_partition(&name, partition)
            }
            CheckedDefinition::Score { name, score } => definitions.define_score(&name, score),
        }
    }
}

/// Checks a field, segment, partition or score statement against `checker`'s definitions
/// (names clashing with tables are the session's own check); `as of` and bare expressions
/// define nothing.
pub(super) fn checked_definition(
    checker: &Checker<'_>,
    statement: &Statement,
) -> Result<CheckedDefinition, CheckError> {
    Ok(match &statement.kind {
        StatementKind::Field { name, expr } => {
            let ty = checker.check_field(&name.name, expr)?;
            CheckedDefinition::Field {
                name: name.name.clone(),
                expr: expr.clone(),
                ty,
            }
        }
        StatementKind::Segment { name, expr } => {
            checker.check_segment(&name.name, expr)?;
            CheckedDefinition::Segment {
                name: name.name.clone(),
                expr: expr.clone(),
            }
        }
        StatementKind::Partition {
            name,
            tiers,
            otherwise,
        } => {
            let partition = PartitionDef {
                tiers: tiers.clone(),
                otherwise: otherwise.clone(),
            };
            checker.check_partition(&name.name, &partition)?;
            CheckedDefinition::Partition {
                name: name.name.clone(),
                partition,
            }
        }
        StatementKind::Score {
            name,
            function,
            args,
        } => {
            let score = ScoreDef::from_arguments(function, args, statement.span)?;
            checker.check_score(&name.name, &score, name.span)?;
            CheckedDefinition::Score {
                name: name.name.clone(),
                score,
            }
        }
        StatementKind::AsOf(_) | StatementKind::Evaluate(_) | StatementKind::Report(_) => {
            return Err(CheckError::new(
                ensemble_compiler::CheckErrorKind::Unsupported,
                "this statement defines nothing",
                statement.span,
            ))
        }
    })
}

/// The date an `as of` statement names.
pub(super) fn date_of(as_of: &AsOf) -> NaiveDate {
    match as_of {
        AsOf::Today => chrono::Local::now().date_naive(),
        AsOf::Date(date) => *date,
    }
}

impl Session {
    /// What the bare expressions of `statements` will read, by evaluation date, as if the
    /// statements ran in order over a copy of the definitions. A statement that would fail
    /// is skipped: it reads nothing (the run stops there anyway). Nothing for a script with
    /// fewer than two bare expressions: the one evaluation reads its own values.
    pub(super) fn script_needs(&self, statements: &[Statement]) -> HashMap<NaiveDate, Needs> {
        let evaluations = statements
            .iter()
            .filter(|s| matches!(s.kind, StatementKind::Evaluate(_)))
            .count();
        if evaluations < 2 {
            return HashMap::new();
        }
        let mut definitions = self.definitions.clone();
        let mut as_of = self.as_of();
        let mut needs: HashMap<NaiveDate, Needs> = HashMap::new();
        for statement in statements {
            let checker = Checker::new(&self.catalog.schema, &definitions, as_of);
            match &statement.kind {
                StatementKind::AsOf(date) => {
                    if !self.pinned_as_of {
                        as_of = date_of(date);
                    }
                }
                StatementKind::Evaluate(expr) => {
                    let Ok(graph) = checker.graph(expr) else {
                        continue;
                    };
                    let read = needs.entry(as_of).or_default();
                    for node in &graph.steps {
                        if let StepOp::Criterion(leaf) = &node.op {
                            read.extend(&leaf.needs);
                        }
                    }
                }
                StatementKind::Report(_) => {}
                _ => {
                    if let Ok(definition) = checked_definition(&checker, statement) {
                        definition.apply(&mut definitions);
                    }
                }
            }
        }
        needs
    }
}
