//! Scores (`score rfm = rfm(recency: …, frequency: …, monetary: …, buckets: 5)`) and the
//! bucket rule they share with `ntile(value, N)`.
//!
//! **Bucket rule**: over the universe members at the as-of date whose value is not null,
//! `bucket = 1 + floor(N × b / n)`, where `n` is the number of those members and `b` the
//! number of them whose value is strictly below the member's (SQL `RANK() - 1`), in integers.
//! Equal values get equal buckets, members tied at the bottom get 1, a null value gets a null
//! bucket. The planner computes it once per evaluation per distinct `(value, N)`.

use ensemble_syntax::{suggest, Expr, ExprKind, Ident, Literal, ScoreArg, Span};

use crate::error::{CheckError, CheckErrorKind};

/// Most buckets a score or `ntile` may have.
pub const MAX_BUCKETS: i64 = 1_000;

/// The dimensions of an RFM score: `(argument, field)`.
pub const RFM_DIMENSIONS: [(&str, &str); 3] =
    [("recency", "r"), ("frequency", "f"), ("monetary", "m")];

/// The field of a score that writes its buckets as one text (`"545"`).
pub const SCORE_TEXT_FIELD: &str = "score";

/// One scored dimension: `rfm.r` is the bucket of `recency`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreDimension {
    /// The argument it came from (`recency`).
    pub argument: String,
    /// The per-member field it defines (`r`).
    pub field: String,
    /// The value that is bucketed (a number or a date: the higher, the better).
    pub value: Expr,
}

/// A checked score definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreDef {
    /// The score function (`rfm`).
    pub function: String,
    /// The dimensions, in the order their buckets are written in the text field.
    pub dimensions: Vec<ScoreDimension>,
    /// Number of buckets (N): buckets run from 1 to N, N best.
    pub buckets: i64,
}

impl ScoreDef {
    /// Reads `function(arg: value, …)`: the function must be known, each of its arguments
    /// given once and no other, `buckets` a whole number from 1 to [`MAX_BUCKETS`].
    pub fn from_arguments(
        function: &Ident,
        args: &[ScoreArg],
        span: Span,
    ) -> Result<ScoreDef, CheckError> {
        let name = function.name.to_ascii_lowercase();
        if !ensemble_syntax::SCORE_FUNCTIONS.contains(&name.as_str()) {
            return Err(CheckError::new(
                CheckErrorKind::Function,
                format!("unknown score function '{}'", function.name),
                function.span,
            )
            .with_suggestion(suggest(
                &name,
                ensemble_syntax::SCORE_FUNCTIONS.iter().copied(),
            ))
            .or_help("score functions: rfm(recency: …, frequency: …, monetary: …, buckets: N)"));
        }
        let expected: Vec<&str> = RFM_DIMENSIONS
            .iter()
            .map(|(argument, _)| *argument)
            .chain(["buckets"])
            .collect();
        for arg in args {
            if !expected.contains(&arg.name.name.as_str()) {
                return Err(CheckError::new(
                    CheckErrorKind::Function,
                    format!("{name} has no argument '{}'", arg.name.name),
                    arg.name.span,
                )
                .with_suggestion(suggest(&arg.name.name, expected.iter().copied()))
                .or_help(format!("its arguments are {}", expected.join(", "))));
            }
        }
        let find = |argument: &str| args.iter().find(|a| a.name.name == argument);
        let mut dimensions = Vec::new();
        for (argument, field) in RFM_DIMENSIONS {
            let Some(arg) = find(argument) else {
                return Err(missing_argument(&name, argument, span));
            };
            dimensions.push(ScoreDimension {
                argument: argument.to_string(),
                field: field.to_string(),
                value: arg.value.clone(),
            });
        }
        let buckets = match find("buckets") {
            Some(arg) => bucket_count(&arg.value, "buckets")?,
            None => return Err(missing_argument(&name, "buckets", span)),
        };
        Ok(ScoreDef {
            function: name,
            dimensions,
            buckets,
        })
    }

    /// The per-member fields the score defines (`r`, `f`, `m`, `score`).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.dimensions
            .iter()
            .map(|d| d.field.as_str())
            .chain([SCORE_TEXT_FIELD])
    }
}

fn missing_argument(function: &str, argument: &str, span: Span) -> CheckError {
    CheckError::new(
        CheckErrorKind::Function,
        format!("{function} needs the argument '{argument}'"),
        span,
    )
    .with_help(
        "write rfm(recency: last(purchases.purchased_at), frequency: count(purchases within 12 months), monetary: sum(purchases.amount within 12 months), buckets: 5)",
    )
}

/// A number of buckets: a whole number literal from 1 to [`MAX_BUCKETS`].
pub fn bucket_count(expr: &Expr, what: &str) -> Result<i64, CheckError> {
    match &expr.kind {
        ExprKind::Literal(Literal::Integer(n)) if (1..=MAX_BUCKETS).contains(n) => Ok(*n),
        ExprKind::Literal(Literal::Integer(n)) => Err(CheckError::new(
            CheckErrorKind::Type,
            format!("{what} must be between 1 and {MAX_BUCKETS}, not {n}"),
            expr.span,
        )
        .with_help("5 buckets give quintiles, 3 give small / medium / large")),
        _ => Err(CheckError::new(
            CheckErrorKind::Type,
            format!("{what} must be a whole number written out, like 5"),
            expr.span,
        )),
    }
}

impl CheckError {
    /// Adds `help` unless the error already has one.
    pub(crate) fn or_help(self, help: impl Into<String>) -> Self {
        if self.help.is_some() {
            self
        } else {
            self.with_help(help)
        }
    }
}
