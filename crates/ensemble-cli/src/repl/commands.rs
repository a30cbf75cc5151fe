//! Backslash commands, as in psql and datafusion-cli.

/// A backslash command and its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `\?`, `\help [TOPIC]`.
    Help(Option<String>),
    /// `\q`: leave.
    Quit,
    /// `\tables`.
    Tables,
    /// `\d TABLE`.
    Describe(String),
    /// `\segments`: definitions with their last sizes.
    Segments,
    /// `\steps`: the step tree of the last evaluation.
    Steps,
    /// `\show STEP|SEGMENT [N]`.
    Show(String, Option<usize>),
    /// `\explain EXPR`.
    Explain(String),
    /// `\sql QUERY`.
    Sql(String),
    /// `\asof DATE`.
    AsOf(String),
    /// `\timing on|off`.
    Timing(bool),
    /// `\format table|csv|json|markdown`.
    Format(crate::output::Format),
    /// `\why KEY EXPR`: why a member is in or out, step by step.
    Why(String, String),
    /// `\exclusive A, B, …`: overlaps between sets and members in none.
    Exclusive(Vec<String>),
    /// `\maxrows N`.
    MaxRows(usize),
    /// `\export STEP|EXPR|REPORT|(SELECT …) TO PATH`.
    Export(String, String),
    /// `\chart REPORT TO PATH`: a report's chart as SVG or PNG.
    Chart(String, String),
    /// `\audience SET [WITH VALUE, …] TO PATH`: one row per member for activation.
    Audience(ensemble::AudienceSpec, String),
    /// `\load FILE`.
    Load(String),
    /// `\save FILE`.
    Save(String),
    /// `\reload`: read the catalog and its tables again (after an import).
    Reload,
}

/// The query of `\export (SELECT …) TO PATH`, if `what` is one: the only way SQL writes a
/// file (through the safe writer; `\sql` itself is read-only).
pub fn export_query(what: &str) -> Option<&str> {
    let inner = what.strip_prefix('(')?.strip_suffix(')')?.trim();
    let first = inner.split_whitespace().next()?.to_ascii_lowercase();
    matches!(first.as_str(), "select" | "with" | "values").then_some(inner)
}

/// Whether `what` is a report statement (it starts with a report's word).
pub fn is_report(what: &str) -> bool {
    let first = what
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    ensemble::syntax::REPORTS.contains(&first.as_str())
}

/// `WHAT TO PATH` of `\export` and `\chart` (the last ` to `: a report may say `from … to …`).
fn target(name: &str, text: &str, usage: &str) -> Result<(String, String), String> {
    let split = keyword_offsets(text, "to")
        .last()
        .and_then(|at| split_at_keyword(text, at, "to"));
    let Some((what, path)) = split else {
        return Err(format!("{name} needs {usage}"));
    };
    if what.is_empty() || path.is_empty() {
        return Err(format!("{name} needs {usage}"));
    }
    Ok((what.to_string(), path.to_string()))
}

/// Where ` KEYWORD ` (whitespace around it, ASCII case ignored) starts in `text`: offsets of
/// the whitespace before it, found in the text itself — never in a lowercased copy, whose
/// offsets differ when a letter changes length (`İ`).
fn keyword_offsets<'a>(text: &'a str, keyword: &'a str) -> impl Iterator<Item = usize> + 'a {
    let (bytes, word) = (text.as_bytes(), keyword.as_bytes());
    (0..bytes.len()).filter(move |&at| {
        let end = at + word.len() + 1;
        end < bytes.len()
            && bytes[at].is_ascii_whitespace()
            && bytes[end].is_ascii_whitespace()
            && bytes[at + 1..end].eq_ignore_ascii_case(word)
    })
}

/// `text` around the keyword found at `at` by [`keyword_offsets`], each side trimmed.
fn split_at_keyword<'a>(text: &'a str, at: usize, keyword: &str) -> Option<(&'a str, &'a str)> {
    let before = text.get(..at)?;
    let after = text.get(at + keyword.len() + 2..)?;
    Some((before.trim(), after.trim()))
}

/// The items of a comma-separated list, commas inside parentheses or quotes kept.
fn top_level_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut quote, mut current) = (0i32, None, String::new());
    for c in text.chars() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('(', None) => depth += 1,
            (')', None) => depth -= 1,
            (',', None) if depth == 0 => {
                items.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current.trim().to_string());
    items.retain(|i| !i.is_empty());
    items
}

/// Every command with its usage and description, for `\?` and completion.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("\\?", "", "list the commands"),
    (
        "\\help",
        "[TOPIC]",
        "help on a topic: operators, criteria, aggregates, dates, steps, partitions",
    ),
    ("\\tables", "", "the catalog's tables"),
    (
        "\\d",
        "TABLE",
        "columns, types, rows, null shares and ranges of a table",
    ),
    (
        "\\segments",
        "",
        "the definitions made so far, with their last sizes",
    ),
    (
        "\\steps",
        "",
        "the step tree of the last evaluation, with sizes and times",
    ),
    (
        "\\show",
        "STEP|SEGMENT [N]",
        "the first N members of a step, with the universe's columns",
    ),
    (
        "\\why",
        "KEY EXPR",
        "for one member: the values the leaves read, and in or out at every step",
    ),
    (
        "\\exclusive",
        "SET, SET, …",
        "whether sets are disjoint and cover the universe: each overlap and the gap, with counts and keys",
    ),
    (
        "\\explain",
        "EXPR",
        "how an expression is read, and the plan of each step",
    ),
    (
        "\\sql",
        "QUERY",
        "SQL over the tables and the steps (step_1, segment names…)",
    ),
    (
        "\\asof",
        "DATE",
        "set the evaluation date (YYYY-MM-DD or today)",
    ),
    ("\\timing", "on|off", "show evaluation times"),
    (
        "\\format",
        "table|csv|json|markdown",
        "how results are printed",
    ),
    ("\\maxrows", "N", "rows shown by results and previews"),
    (
        "\\export",
        "STEP|EXPR|REPORT|(SELECT …) TO PATH",
        "members with their columns, a report's tables, or a query's result, to a .csv, .json or .parquet file",
    ),
    (
        "\\audience",
        "SET [WITH VALUE, …] TO PATH",
        "one row per member with values, a column per segment and per partition, to .parquet or .csv (also the SQL table audience)",
    ),
    (
        "\\chart",
        "REPORT TO PATH",
        "a report's chart (Venn or UpSet, heatmap, bars, lines) to a .svg or .png file",
    ),
    ("\\load", "FILE", "run a script file"),
    ("\\save", "FILE", "the session's definitions as a script"),
    (
        "\\reload",
        "",
        "read the catalog again (after an import); definitions are kept",
    ),
    ("\\q", "", "quit (or Ctrl-D)"),
];

/// Reads a command line (starting with `\`).
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim().trim_end_matches(';').trim();
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let need = |what: &str| -> Result<String, String> {
        if rest.is_empty() {
            Err(format!("{name} needs {what}"))
        } else {
            Ok(rest.to_string())
        }
    };
    Ok(match name {
        "\\?" => Command::Help(None),
        "\\help" | "\\h" => Command::Help((!rest.is_empty()).then(|| rest.to_string())),
        "\\q" | "\\quit" => Command::Quit,
        "\\tables" | "\\dt" => Command::Tables,
        "\\d" => Command::Describe(need("a table")?),
        "\\segments" => Command::Segments,
        "\\steps" => Command::Steps,
        "\\show" => {
            let text = need("a step or segment")?;
            let mut parts = text.split_whitespace();
            let target = parts.next().unwrap_or_default().to_string();
            let limit = match parts.next() {
                Some(n) => Some(
                    n.parse()
                        .map_err(|_| format!("\\show: '{n}' is not a number"))?,
                ),
                None => None,
            };
            Command::Show(target, limit)
        }
        "\\explain" => Command::Explain(need("an expression")?),
        "\\sql" => Command::Sql(need("a query")?),
        "\\asof" => Command::AsOf(need("a date")?),
        "\\timing" => match rest {
            "on" => Command::Timing(true),
            "off" => Command::Timing(false),
            _ => return Err("\\timing takes on or off".into()),
        },
        "\\format" => match crate::output::Format::named(rest) {
            Some(format) => Command::Format(format),
            None => return Err("\\format takes table, csv, json or markdown".into()),
        },
        "\\exclusive" => {
            let sets: Vec<String> = need("sets separated by commas")?
                .split(',')
                .map(|set| set.trim().to_string())
                .filter(|set| !set.is_empty())
                .collect();
            if sets.len() < 2 {
                return Err("\\exclusive needs at least two sets: \\exclusive vip, clients".into());
            }
            Command::Exclusive(sets)
        }
        "\\why" => {
            let text = need("a member key and an expression")?;
            let (key, expression) = text
                .split_once(char::is_whitespace)
                .ok_or("\\why needs KEY EXPR, for example \\why 1042 vip - clients")?;
            let key = key.trim_matches(|c| c == '\'' || c == '"');
            Command::Why(key.to_string(), expression.trim().to_string())
        }
        "\\maxrows" => Command::MaxRows(
            rest.parse()
                .map_err(|_| "\\maxrows takes a number".to_string())?,
        ),
        "\\export" => {
            let (what, path) = target(name, &need("STEP|EXPR TO PATH")?, "STEP|EXPR TO PATH")?;
            Command::Export(what, path)
        }
        "\\chart" => {
            let (what, path) = target(name, &need("REPORT TO PATH")?, "REPORT TO FILE.svg|png")?;
            if !is_report(&what) {
                return Err(format!(
                    "\\chart draws a report ({}): \\chart overlap a, b, c TO overlap.svg",
                    ensemble::syntax::REPORTS.join(", ")
                ));
            }
            Command::Chart(what, path)
        }
        "\\audience" => {
            let usage = "SET [WITH VALUE, …] TO FILE.parquet|csv";
            let (what, path) = target(name, &need(usage)?, usage)?;
            let split = keyword_offsets(&what, "with")
                .next()
                .and_then(|at| split_at_keyword(&what, at, "with"));
            let (set, values) = match split {
                Some((set, values)) => (set, top_level_list(values)),
                None => (what.as_str(), Vec::new()),
            };
            let spec = ensemble::AudienceSpec {
                set: set.to_string(),
                values,
            };
            Command::Audience(spec, path)
        }
        "\\load" | "\\i" => Command::Load(need("a file")?),
        "\\save" => Command::Save(need("a file")?),
        "\\reload" => Command::Reload,
        other => {
            let names = COMMANDS.iter().map(|(n, _, _)| *n);
            let hint = ensemble::syntax::suggest(other, names)
                .map(|s| format!(" — did you mean {s}?"))
                .unwrap_or_default();
            return Err(format!("unknown command {other}{hint} (\\? lists them)"));
        }
    })
}

/// `\?`.
pub fn command_list() -> String {
    let mut out = String::from("Commands:\n");
    for (name, args, description) in COMMANDS {
        out.push_str(&format!(
            "  {:<34} {description}\n",
            format!("{name} {args}")
        ));
    }
    out.push_str("\nAnything else is the segment language, ended by ';' (see \\help).\n");
    out
}

/// `\help TOPIC`.
pub fn help(topic: Option<&str>) -> String {
    match topic.unwrap_or("") {
        "operators" | "sets" => "Set operators (intersection binds tighter than the others, all left-associative):\n  ∩ & inter intersect    ∪ | union    − - ∖ minus except sauf    Δ ^ xor\n  clients - acheteurs_recents ∩ vip   is   clients − (acheteurs_recents ∩ vip)\n".into(),
        "criteria" => format!("Criteria in brackets: [city = 'Paris'], [points between 10 and 20], [city in ('Lyon', 'Lille')],\n  [email is null], [email like '%@x.fr'], [city contains 'ar'], [city starts with 'Pa'],\n  and / or / not, + - * /, functions: {}\n", ensemble::syntax::FUNCTIONS.join(", ")),
        "partitions" | "scores" => "Partitions: exclusive tiers, the first matching tier wins; `else` takes the rest:\n  partition statut { vip = [ca_12m >= 1000]; bons = [ca_12m >= 200]; else autres; }\n  statut;  shows every tier's count;  statut.vip ∩ [city = 'Paris'];  a tier is a set\nScores: buckets 1..N, N best (ties share a bucket):\n  score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases within 12 months),\n                  monetary: sum(purchases.amount within 12 months), buckets: 5);\n  [rfm.r >= 4 and rfm.score != '111'];  field pmg = ntile(ca_12m, 3);\n  \\why KEY EXPR shows one member's values and in/out at every step\n".into(),
        "aggregates" => "Aggregates over a related table, with optional where and within:\n  [count(purchases) > 3]  [sum(purchases.amount within 12 months) >= 1000]\n  avg min max first last count_distinct;  [has purchases where channel = 'web' within 30 days]  [no visits]\n".into(),
        "dates" => "Dates: 2026-01-31, today, 30 days ago, 12 months ago (clamped to month ends), 2 weeks ago, 1 year ago;\n  d within 30 days (30 days ago < d <= today), d before X, d after X.\n  \\asof DATE or `as of DATE;` sets the evaluation date.\n".into(),
        "reports" => "Reports (each a table; \\export REPORT TO file.csv, \\chart REPORT TO file.svg):\n  overlap clients, vip, champions;      pairwise counts, shares, Jaccard, every exact combination\n  kpi statut;  kpi vip with sum(purchases.amount) as ca;   members, shares, revenue, basket, frequency, recency\n  transition statut from 2025-06-30 to 2026-06-30;        members moving between tiers\n  trend vip from 2025-06-30 to 2026-06-30 every month;    sizes at each date\n  snapshot vip;  diff vip from 2026-05-31 to 2026-06-30;  memberships kept as Parquet, compared\n".into(),
        "steps" => "Every node of an evaluated expression is a step: step_1, step_2… and the segment names.\n  \\steps shows the tree, \\show vip 20 previews members, \\sql SELECT count(*) FROM vip queries them,\n  \\export vip TO vip.parquet writes them.\n".into(),
        _ => format!("{}\nTopics: \\help operators | criteria | aggregates | dates | steps | partitions | reports\nStatements: as of DATE;  field NAME = VALUE;  segment NAME = SET;  partition NAME {{ … }}  score NAME = rfm(…);  SET;  {}\n", command_list(), ensemble::syntax::REPORTS.iter().map(|r| format!("{r} …;")).collect::<Vec<_>>().join("  ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse("\\show vip 5"),
            Ok(Command::Show("vip".into(), Some(5)))
        );
        assert_eq!(
            parse("\\export clients - vip TO out/a.csv"),
            Ok(Command::Export("clients - vip".into(), "out/a.csv".into()))
        );
        assert_eq!(parse("\\timing on;"), Ok(Command::Timing(true)));
        assert_eq!(
            export_query("(SELECT city, count(*) FROM vip GROUP BY city)"),
            Some("SELECT city, count(*) FROM vip GROUP BY city")
        );
        assert_eq!(export_query("(vip ∪ clients) - all"), None);
        assert!(parse("\\shwo vip")
            .unwrap_err()
            .contains("did you mean \\show"));
        assert!(parse("\\d").is_err());
        assert_eq!(
            top_level_list("email, greatest(a, b), 'x,y'"),
            vec!["email", "greatest(a, b)", "'x,y'"]
        );
        let Ok(Command::Audience(spec, path)) =
            parse("\\audience vip with email, rfm.score to out/vip.csv")
        else {
            panic!("not an audience")
        };
        assert_eq!(
            (spec.set.as_str(), spec.values.len(), path.as_str()),
            ("vip", 2, "out/vip.csv")
        );
    }

    /// Keywords are found in the text as written: a letter whose lowercase is longer (`İ`)
    /// shifts nothing, and no split falls inside a character.
    #[test]
    fn keywords_are_found_in_the_text_as_written() {
        assert_eq!(
            parse("\\export İİ to f.csv"),
            Ok(Command::Export("İİ".into(), "f.csv".into()))
        );
        assert_eq!(
            parse("\\export x to İ.csv"),
            Ok(Command::Export("x".into(), "İ.csv".into()))
        );
        assert_eq!(
            parse("\\export straße TO f.csv"),
            Ok(Command::Export("straße".into(), "f.csv".into()))
        );
        assert_eq!(
            parse("\\export İİİİ TO İ to x.csv"),
            Ok(Command::Export("İİİİ TO İ".into(), "x.csv".into()))
        );
        assert_eq!(parse("\\show İ"), Ok(Command::Show("İ".into(), None)));
        let Ok(Command::Audience(spec, path)) = parse("\\audience İİİ WITH İ, email TO İ.csv")
        else {
            panic!("not an audience")
        };
        assert_eq!(
            (spec.set.as_str(), spec.values, path.as_str()),
            ("İİİ", vec!["İ".to_string(), "email".into()], "İ.csv")
        );
        // Lines without both sides fail with the usage, never a panic.
        for line in ["\\export İİİ to", "\\export to İİ", "\\export İİİİ"] {
            assert!(parse(line).unwrap_err().contains("needs"), "{line}");
        }
        assert_eq!(
            parse("\\export İ\tto\tİ"),
            Ok(Command::Export("İ".into(), "İ".into()))
        );
    }
}
