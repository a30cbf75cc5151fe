//! Pieces of statements read on their own: the server's table functions take a list of sets,
//! a partition's name or a whole report as separate arguments, and build the statement from
//! their trees — never from spliced text, so a quote, a `;` or a keyword in an argument cannot
//! change the statement's shape.

use super::*;

/// The one pair of `rule` (which spans the whole input) over `source`, brackets checked first
/// and pest run on a large stack, as [`parse_script`].
fn whole(rule: Rule, source: &str) -> Result<Pair<'_, Rule>, ParseError> {
    check_brackets(source)?;
    let mut pairs = crate::stack::with_large_stack(|| SegmentParser::parse(rule, source))
        .map_err(|e| ParseError::from_pest(e).with_found(source))?;
    pairs.next().ok_or_else(|| ParseError::Expected {
        expected: "some text".into(),
        span: Span::new(0, source.len()),
    })
}

/// Parses a comma-separated list of set expressions (`vip, clients - vip, statut`), with the
/// notes on how a mix of operators was read.
pub fn parse_set_list(source: &str) -> Result<(Vec<SetExpr>, Vec<Diagnostic>), ParseError> {
    let list = whole(Rule::set_list, source)?;
    let mut reader = Reader::default();
    let mut sets = Vec::new();
    for pair in significant(list.into_inner()) {
        if pair.as_rule() == Rule::set_expr {
            sets.push(reader.top_set_expr(pair)?);
        }
    }
    Ok((sets, reader.notes))
}

/// Parses a name alone (a segment's or a partition's): not a keyword, nothing around it.
pub fn parse_name(source: &str) -> Result<Ident, ParseError> {
    let pair = whole(Rule::name_only, source)?;
    significant(pair.into_inner())
        .find(|part| part.as_rule() == Rule::ident)
        .map(ident)
        .ok_or_else(|| ParseError::Expected {
            expected: "a name".into(),
            span: Span::new(0, source.len()),
        })
}

/// Parses exactly one report statement (`kpi statut`, a `;` after it allowed), with the notes
/// on how its sets were read.
pub fn parse_report(source: &str) -> Result<(Report, Vec<Diagnostic>), ParseError> {
    let parsed = parse_script(source)?;
    let mut statements = parsed.script.statements.into_iter();
    match (statements.next(), statements.next()) {
        (
            Some(Statement {
                kind: StatementKind::Report(report),
                ..
            }),
            None,
        ) => Ok((report, parsed.notes)),
        (Some(statement), None) => Err(ParseError::Expected {
            expected: format!("a report ({})", crate::REPORTS.join(", ")),
            span: statement.span,
        }),
        _ => Err(ParseError::Expected {
            expected: "exactly one report".into(),
            span: Span::new(0, source.len()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_sets_is_only_sets() {
        let (sets, _) = parse_set_list("vip, clients - vip ,statut.vip").unwrap();
        let texts: Vec<String> = sets.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["vip", "clients − vip", "statut.vip"]);
        // Spans point into the argument itself.
        assert_eq!(sets[1].span, Span::new(5, 18));
        for hostile in [
            "vip; snapshot vip",
            "vip from 2025-01-01 to 2026-01-01",
            "vip with sum(purchases.amount) as x",
            "vip' , 'x",
            "",
            "vip,",
            "((((vip",
        ] {
            assert!(parse_set_list(hostile).is_err(), "{hostile}");
        }
    }

    #[test]
    fn a_name_is_one_name() {
        assert_eq!(parse_name(" statut ").unwrap().name, "statut");
        for hostile in [
            "statut from 2025-01-01",
            "statut;",
            "all",
            "a b",
            "",
            "'statut'",
        ] {
            assert!(parse_name(hostile).is_err(), "{hostile}");
        }
    }

    #[test]
    fn a_report_is_one_report() {
        let (report, _) = parse_report("kpi statut;").unwrap();
        assert!(matches!(report, Report::Kpi { .. }));
        for hostile in ["vip", "kpi statut; snapshot vip", "segment s = vip", ""] {
            assert!(parse_report(hostile).is_err(), "{hostile}");
        }
    }
}
