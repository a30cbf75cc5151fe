//! Limits that keep deep input an error, never a stack overflow: bracket nesting checked
//! before pest runs, tree depth while the tree is built.

use super::*;

/// Checks bracket balance and rejects nesting deeper than [`MAX_NESTING`] before pest sees
/// the text, so that deeply nested input is an error (never a stack overflow) and an unclosed
/// bracket is reported where it was opened.
pub(super) fn check_brackets(source: &str) -> Result<(), ParseError> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut quote: Option<(char, usize)> = None;
    let mut chars = source.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if let Some((q, _)) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some((c, offset)),
            '-' if chars.peek().map(|(_, next)| *next) == Some('-') => {
                // A comment: skip to the end of the line.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                open.push((c, offset));
                if open.len() > MAX_NESTING {
                    return Err(ParseError::TooDeep {
                        limit: MAX_NESTING,
                        span: Span::new(offset, offset + 1),
                    });
                }
            }
            ')' | ']' | '}' => {
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match open.pop() {
                    Some((opener, _)) if opener == expected => {}
                    Some((opener, at)) => {
                        return Err(ParseError::MismatchedBracket {
                            found: c,
                            opener,
                            span: Span::new(offset, offset + 1),
                            opened: Span::new(at, at + 1),
                        })
                    }
                    None => {
                        return Err(ParseError::UnopenedBracket {
                            found: c,
                            span: Span::new(offset, offset + 1),
                        })
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((q, at)) = quote {
        return Err(ParseError::UnclosedString {
            quote: q,
            span: Span::new(at, source.len()),
        });
    }
    if let Some((opener, at)) = open.pop() {
        return Err(ParseError::UnclosedBracket {
            opener,
            span: Span::new(at, at + 1),
        });
    }
    Ok(())
}

pub(super) fn wrap(
    span: Span,
    depth: usize,
    make: impl FnOnce(Box<Expr>) -> ExprKind,
    operand: Expr,
) -> Result<ExprNode, ParseError> {
    let depth = depth + 1;
    if depth > MAX_TREE_DEPTH {
        return Err(ParseError::TooDeep {
            limit: MAX_TREE_DEPTH,
            span,
        });
    }
    Ok(ExprNode {
        expr: Expr {
            kind: make(Box::new(operand)),
            span,
        },
        depth,
    })
}

/// Pest's Pratt parser recurses once per prefix operator: a long run of `not not not …` is
/// refused before it gets there.
pub(super) fn check_prefix_runs(pair: Pair<'_, Rule>) -> Result<(), ParseError> {
    let mut run = 0usize;
    for part in significant(pair.into_inner()) {
        if matches!(part.as_rule(), Rule::op_not | Rule::op_neg) {
            run += 1;
            if run > MAX_NESTING {
                return Err(ParseError::TooDeep {
                    limit: MAX_NESTING,
                    span: span_of(&part),
                });
            }
        } else {
            run = 0;
        }
    }
    Ok(())
}
