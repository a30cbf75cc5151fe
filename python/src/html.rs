//! The HTML that Jupyter shows for ensemble's objects (`_repr_html_`): small, self-contained
//! fragments with no script and no external style.

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A preformatted block (a step tree, an explanation).
pub(crate) fn pre(text: &str) -> String {
    format!(
        "<pre style=\"line-height:1.25;margin:0.4em 0\">{}</pre>",
        escape(text.trim_end())
    )
}

/// A caption line above a block.
pub(crate) fn caption(text: &str) -> String {
    format!(
        "<div style=\"font-weight:bold;margin-top:0.4em\">{}</div>",
        escape(text)
    )
}

/// `cells` (the header first) as an HTML table; `total` rows exist, of which the table shows
/// those in `cells`.
pub(crate) fn table(cells: &[Vec<String>], total: usize) -> String {
    let mut out = String::from("<table>");
    if let Some((header, rows)) = cells.split_first() {
        out.push_str("<thead><tr>");
        for name in header {
            out.push_str(&format!("<th>{}</th>", escape(name)));
        }
        out.push_str("</tr></thead><tbody>");
        for row in rows {
            out.push_str("<tr>");
            for cell in row {
                out.push_str(&format!("<td>{}</td>", escape(cell)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody>");
    }
    out.push_str("</table>");
    let shown = cells.len().saturating_sub(1);
    let rows = if total == 1 { "row" } else { "rows" };
    let more = if total > shown {
        format!(" ({shown} shown)")
    } else {
        String::new()
    };
    out.push_str(&format!(
        "<div style=\"color:#666\">{} {rows}{more}</div>",
        ensemble::group_thousands(total)
    ));
    out
}
