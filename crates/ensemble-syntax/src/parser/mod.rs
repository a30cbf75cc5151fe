//! From source text to the syntax tree: pest for the grammar (`grammar/segment.pest`), pest's
//! `PrattParser` for operator precedence, and readable errors with spans.

use std::cell::{Cell, RefCell};
use std::sync::LazyLock;

use chrono::NaiveDate;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::error::ParseError;
use crate::grammar::{Rule, SegmentParser};

mod arguments;
mod limits;
mod reports;
mod statements;
mod tokens;
mod warnings;

pub use arguments::{parse_name, parse_report, parse_set_list};
use limits::*;
use tokens::*;
use warnings::*;

/// Deepest syntax tree accepted (long operator chains and prefix runs): far beyond any real
/// segment, far below a stack overflow.
pub const MAX_TREE_DEPTH: usize = 128;
/// Deepest bracket nesting accepted. Twice the tree depth, so that the canonical text of any
/// accepted tree (which parenthesises every level) is accepted too.
pub const MAX_NESTING: usize = 2 * MAX_TREE_DEPTH;

/// What the parser read, with the notes it has about how it read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The script.
    pub script: Script,
    /// Notes (for example how a mix of set operators was read).
    pub notes: Vec<Diagnostic>,
}

/// Parses a whole script.
///
/// Parsing runs on the caller's thread whatever its stack (see [`crate::stack`]): pest's
/// parser on a large stack segment, the tree built by walks that grow the stack on demand,
/// so nesting up to [`MAX_NESTING`] never overflows.
pub fn parse_script(source: &str) -> Result<Parsed, ParseError> {
    check_brackets(source)?;
    let mut pairs = crate::stack::with_large_stack(|| SegmentParser::parse(Rule::script, source))
        .map_err(|e| ParseError::from_pest(e).with_found(source))?;
    let script = pairs
        .next()
        .expect("the script rule always produces one pair");
    let mut reader = Reader::default();
    let mut statements = Vec::new();
    for pair in significant(script.into_inner()) {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        statements.push(reader.statement(pair)?);
    }
    Ok(Parsed {
        script: Script { statements },
        notes: reader.notes,
    })
}

/// Parses one set expression (for example the argument of `explain`).
pub fn parse_set_expr(source: &str) -> Result<(SetExpr, Vec<Diagnostic>), ParseError> {
    let parsed = parse_script(source)?;
    let mut statements = parsed.script.statements.into_iter();
    match (statements.next(), statements.next()) {
        (
            Some(Statement {
                kind: StatementKind::Evaluate(expr),
                ..
            }),
            None,
        ) => Ok((expr, parsed.notes)),
        (Some(statement), None) => Err(ParseError::Expected {
            expected: "a set expression".into(),
            span: statement.span,
        }),
        _ => Err(ParseError::Expected {
            expected: "exactly one set expression".into(),
            span: Span::new(0, source.len()),
        }),
    }
}

static SET_PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_union, Assoc::Left)
            | Op::infix(Rule::op_minus, Assoc::Left)
            | Op::infix(Rule::op_xor, Assoc::Left))
        .op(Op::infix(Rule::op_inter, Assoc::Left))
});

static EXPR_PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::postfix(Rule::is_null_op)
            | Op::postfix(Rule::between_op)
            | Op::postfix(Rule::in_op)
            | Op::postfix(Rule::like_op)
            | Op::postfix(Rule::contains_op)
            | Op::postfix(Rule::starts_with_op)
            | Op::postfix(Rule::within_op)
            | Op::postfix(Rule::before_op)
            | Op::postfix(Rule::after_op))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// A set expression being built, with what the note about operator mixing needs.
struct SetNode {
    expr: SetExpr,
    depth: usize,
    grouped: bool,
}

/// `left op right`: a chain of one associative operator written without parentheses grows
/// the left operation by one operand (one n-ary node, depth unchanged); anything else nests.
fn combine(op: SetOp, left: SetNode, right: SetNode, op_span: Span) -> Result<SetNode, ParseError> {
    let span = left.expr.span.to(right.expr.span);
    let extends = !left.grouped
        && op.is_associative()
        && matches!(&left.expr.kind, SetExprKind::Operation { op: inner, .. } if *inner == op);
    let (operands, depth) = match left.expr.kind {
        SetExprKind::Operation { mut operands, .. } if extends => {
            operands.push(right.expr);
            (operands, left.depth.max(right.depth + 1))
        }
        kind => {
            let left_expr = SetExpr {
                kind,
                span: left.expr.span,
            };
            (vec![left_expr, right.expr], left.depth.max(right.depth) + 1)
        }
    };
    if depth > MAX_TREE_DEPTH {
        return Err(ParseError::TooDeep {
            limit: MAX_TREE_DEPTH,
            span: op_span,
        });
    }
    Ok(SetNode {
        expr: SetExpr {
            kind: SetExprKind::Operation { op, operands },
            span,
        },
        depth,
        grouped: false,
    })
}

/// A value expression being built, with its depth.
struct ExprNode {
    expr: Expr,
    depth: usize,
}

#[derive(Default)]
struct Reader {
    notes: Vec<Diagnostic>,
}

impl Reader {
    /// A whole set expression: also notes how a mix of precedence levels was read.
    pub(super) fn top_set_expr(&mut self, pair: Pair<'_, Rule>) -> Result<SetExpr, ParseError> {
        let mixed = Cell::new(false);
        let node = self.set_expr(pair, &mixed)?;
        if mixed.get() {
            self.notes.push(
                Diagnostic::note(
                    format!("read as {}", crate::display::parenthesized(&node.expr)),
                    node.expr.span,
                )
                .with_label("intersection binds tighter than union, difference and xor")
                .with_help("add parentheses to make the grouping explicit"),
            );
        }
        Ok(node.expr)
    }

    #[recursive::recursive]
    fn set_expr(
        &mut self,
        pair: Pair<'_, Rule>,
        mixed: &Cell<bool>,
    ) -> Result<SetNode, ParseError> {
        let reader = RefCell::new(self);
        let parsed = SET_PRATT
            .map_primary(|primary| reader.borrow_mut().set_operand(primary, mixed))
            .map_infix(|left, op, right| {
                let (left, right) = (left?, right?);
                let op_span = span_of(&op);
                let op = match op.as_rule() {
                    Rule::op_inter => SetOp::Intersect,
                    Rule::op_union => SetOp::Union,
                    Rule::op_minus => SetOp::Difference,
                    Rule::op_xor => SetOp::SymmetricDifference,
                    other => unreachable!("not a set operator: {other:?}"),
                };
                for side in [&left, &right] {
                    if let SetExprKind::Operation { op: inner, .. } = side.expr.kind {
                        if !side.grouped && inner.precedence() != op.precedence() {
                            mixed.set(true);
                        }
                    }
                }
                combine(op, left, right, op_span)
            })
            .parse(significant(pair.into_inner()));
        parsed
    }

    #[recursive::recursive]
    fn set_operand(
        &mut self,
        pair: Pair<'_, Rule>,
        mixed: &Cell<bool>,
    ) -> Result<SetNode, ParseError> {
        let span = span_of(&pair);
        let leaf = |kind| {
            Ok(SetNode {
                expr: SetExpr { kind, span },
                depth: 1,
                grouped: false,
            })
        };
        match pair.as_rule() {
            Rule::all => leaf(SetExprKind::All),
            Rule::segment_ref => leaf(SetExprKind::Segment(ident(first(pair)))),
            Rule::tier_ref => {
                let mut inner = pair.into_inner();
                let partition = ident(inner.next().expect("partition name"));
                let tier = ident(inner.next().expect("tier name"));
                leaf(SetExprKind::Tier { partition, tier })
            }
            Rule::criterion => {
                let expr = self.expr_node(first(pair))?;
                Ok(SetNode {
                    expr: SetExpr {
                        kind: SetExprKind::Criterion(Box::new(expr.expr)),
                        span,
                    },
                    depth: expr.depth + 1,
                    grouped: false,
                })
            }
            Rule::set_group => {
                let mut node = self.set_expr(first(pair), mixed)?;
                node.grouped = true;
                node.expr.span = span;
                Ok(node)
            }
            other => unreachable!("not a set operand: {other:?}"),
        }
    }

    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
        Ok(self.expr_node(pair)?.expr)
    }

    /// `expr`, `filter` and `arith` pairs: a flat sequence of operands and operators.
    #[recursive::recursive]
    fn expr_node(&mut self, pair: Pair<'_, Rule>) -> Result<ExprNode, ParseError> {
        check_prefix_runs(pair.clone())?;
        let reader = RefCell::new(self);
        let parsed = EXPR_PRATT
            .map_primary(|primary| reader.borrow_mut().primary(primary))
            .map_prefix(|op, operand| {
                let operand = operand?;
                let op_span = span_of(&op);
                let op = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    _ => UnaryOp::Neg,
                };
                // `-5` is the literal -5, not the negation of 5.
                if op == UnaryOp::Neg {
                    if let ExprKind::Literal(literal) = &operand.expr.kind {
                        if let Some(negated) = negate_literal(literal) {
                            return Ok(ExprNode {
                                expr: Expr {
                                    kind: ExprKind::Literal(negated),
                                    span: op_span.to(operand.expr.span),
                                },
                                depth: operand.depth,
                            });
                        }
                    }
                }
                wrap(
                    op_span.to(operand.expr.span),
                    operand.depth,
                    |expr| ExprKind::Unary { op, expr },
                    operand.expr,
                )
            })
            .map_postfix(|operand, op| {
                let operand = operand?;
                reader.borrow_mut().postfix(operand, op)
            })
            .map_infix(|left, op, right| {
                let (left, right) = (left?, right?);
                let op_span = span_of(&op);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::NotEq,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::LtEq,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::GtEq,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    other => unreachable!("not an infix operator: {other:?}"),
                };
                let depth = left.depth.max(right.depth) + 1;
                if depth > MAX_TREE_DEPTH {
                    return Err(ParseError::TooDeep {
                        limit: MAX_TREE_DEPTH,
                        span: op_span,
                    });
                }
                Ok(ExprNode {
                    expr: Expr {
                        span: left.expr.span.to(right.expr.span),
                        kind: ExprKind::Binary {
                            op,
                            left: Box::new(left.expr),
                            right: Box::new(right.expr),
                        },
                    },
                    depth,
                })
            })
            .parse(significant(pair.into_inner()));
        parsed
    }

    fn postfix(&mut self, operand: ExprNode, op: Pair<'_, Rule>) -> Result<ExprNode, ParseError> {
        let span = operand.expr.span.to(span_of(&op));
        let rule = op.as_rule();
        let mut negated = false;
        let mut parts = Vec::new();
        for part in significant(op.into_inner()) {
            if part.as_rule() == Rule::negation {
                negated = true;
            } else {
                parts.push(part);
            }
        }
        let mut depth = operand.depth;
        let mut operands = Vec::new();
        let mut window = None;
        for part in parts {
            if part.as_rule() == Rule::duration {
                window = Some(duration(part)?);
            } else {
                let node = self.expr_node(part)?;
                depth = depth.max(node.depth);
                operands.push(node.expr);
            }
        }
        if rule == Rule::between_op {
            if let Some(warning) = reversed_bounds(&operands, span) {
                self.notes.push(warning);
            }
        }
        let expr = Box::new(operand.expr);
        let mut operands = operands.into_iter();
        let mut next = || Box::new(operands.next().expect("the grammar gives this operand"));
        let kind = match rule {
            Rule::is_null_op => ExprKind::IsNull { expr, negated },
            Rule::between_op => ExprKind::Between {
                expr,
                low: next(),
                high: next(),
                negated,
            },
            Rule::in_op => ExprKind::InList {
                expr,
                list: operands.collect(),
                negated,
            },
            Rule::like_op | Rule::contains_op | Rule::starts_with_op => ExprKind::StringTest {
                op: match rule {
                    Rule::like_op => StringOp::Like,
                    Rule::contains_op => StringOp::Contains,
                    _ => StringOp::StartsWith,
                },
                expr,
                pattern: next(),
                negated,
            },
            Rule::within_op => ExprKind::Within {
                expr,
                window: window.expect("within has a duration"),
            },
            Rule::before_op | Rule::after_op => ExprKind::DateTest {
                op: if rule == Rule::before_op {
                    DateTestOp::Before
                } else {
                    DateTestOp::After
                },
                expr,
                bound: next(),
            },
            other => unreachable!("not a postfix operator: {other:?}"),
        };
        let depth = depth + 1;
        if depth > MAX_TREE_DEPTH {
            return Err(ParseError::TooDeep {
                limit: MAX_TREE_DEPTH,
                span,
            });
        }
        Ok(ExprNode {
            expr: Expr { kind, span },
            depth,
        })
    }

    #[recursive::recursive]
    fn primary(&mut self, pair: Pair<'_, Rule>) -> Result<ExprNode, ParseError> {
        let span = span_of(&pair);
        let leaf = |kind| {
            Ok(ExprNode {
                expr: Expr { kind, span },
                depth: 1,
            })
        };
        match pair.as_rule() {
            Rule::date_lit => leaf(ExprKind::Literal(Literal::Date(date_literal(&pair)?))),
            Rule::relative_date => leaf(ExprKind::RelativeDate(duration(pair)?)),
            Rule::number => leaf(ExprKind::Literal(number(&pair)?)),
            Rule::string => leaf(ExprKind::Literal(Literal::String(string(pair)))),
            Rule::boolean => {
                let text = pair.as_str().to_ascii_lowercase();
                leaf(ExprKind::Literal(Literal::Boolean(text == "true")))
            }
            Rule::null => leaf(ExprKind::Literal(Literal::Null)),
            Rule::today => leaf(ExprKind::Today),
            Rule::name => leaf(ExprKind::Name(ident(first(pair)))),
            Rule::qualified_column => {
                let (table, column) = qualified(pair);
                leaf(ExprKind::Column { table, column })
            }
            Rule::function_call => {
                let mut inner = significant(pair.into_inner());
                let function = ident(inner.next().expect("function name"));
                let mut depth = 1;
                let mut args = Vec::new();
                for arg in inner {
                    let node = self.expr_node(arg)?;
                    depth = depth.max(node.depth + 1);
                    args.push(node.expr);
                }
                Ok(ExprNode {
                    expr: Expr {
                        kind: ExprKind::Call { function, args },
                        span,
                    },
                    depth,
                })
            }
            Rule::aggregate => self.aggregate(pair),
            Rule::exists => self.exists(pair),
            Rule::expr => {
                let mut node = self.expr_node(pair)?;
                node.expr.span = span;
                Ok(node)
            }
            other => unreachable!("not a primary: {other:?}"),
        }
    }

    fn clauses<'i>(
        &mut self,
        pairs: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> Result<Clauses, ParseError> {
        let mut filter = None;
        let mut window = None;
        let mut depth = 1;
        for clause in pairs {
            match clause.as_rule() {
                Rule::agg_where => {
                    let node = self.expr_node(first(clause))?;
                    depth = node.depth + 1;
                    filter = Some(Box::new(node.expr));
                }
                Rule::agg_within => window = Some(duration(first(clause))?),
                other => unreachable!("not an aggregate clause: {other:?}"),
            }
        }
        Ok((filter, window, depth))
    }

    fn aggregate(&mut self, pair: Pair<'_, Rule>) -> Result<ExprNode, ParseError> {
        let span = span_of(&pair);
        let mut inner = significant(pair.into_inner());
        let func_pair = inner.next().expect("aggregate function");
        let func = AggFunc::from_name(func_pair.as_str()).expect("the grammar lists the names");
        let target = inner.next().expect("aggregate target");
        let (table, column) = match target.as_rule() {
            Rule::qualified_column => {
                let (table, column) = qualified(target);
                (table, Some(column))
            }
            _ => (ident(first(target)), None),
        };
        let (filter, window, depth) = self.clauses(inner)?;
        Ok(ExprNode {
            expr: Expr {
                kind: ExprKind::Aggregate(Aggregate {
                    func,
                    table,
                    column,
                    filter,
                    window,
                }),
                span,
            },
            depth,
        })
    }

    fn exists(&mut self, pair: Pair<'_, Rule>) -> Result<ExprNode, ParseError> {
        let span = span_of(&pair);
        let negated = pair.as_str()[..2].eq_ignore_ascii_case("no");
        let mut inner = significant(pair.into_inner());
        let table = ident(first(inner.next().expect("exists names a table")));
        let (filter, window, depth) = self.clauses(inner)?;
        Ok(ExprNode {
            expr: Expr {
                kind: ExprKind::Exists {
                    negated,
                    table,
                    filter,
                    window,
                },
                span,
            },
            depth,
        })
    }
}

/// The `where` filter, the `within` window and the depth of an aggregate's clauses.
type Clauses = (Option<Box<Expr>>, Option<Duration>, usize);
