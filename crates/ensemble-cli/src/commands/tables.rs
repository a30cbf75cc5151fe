//! `ensemble tables` and `describe` (and the REPL's `\\tables`, `\\d`).

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use ensemble::{group_thousands, Session, SessionOptions, TableDescription};

use crate::error::CliError;
use crate::stdio::{out, outln};

/// `ensemble tables`.
pub async fn tables(catalog: &Path, options: &SessionOptions, color: bool) -> Result<(), CliError> {
    let session = Session::open_with(catalog, options)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    print_tables(&session);
    Ok(())
}

/// `ensemble describe TABLE`.
pub async fn describe(
    catalog: &Path,
    table: &str,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let session = Session::open_with(catalog, options)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    let description = session
        .describe(table)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    out!("{}", render_description(description));
    Ok(())
}

/// The catalog's tables as a table.
pub fn print_tables(session: &Session) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["table", "role", "columns", "location"]);
    for info in session.tables() {
        table.add_row(vec![
            info.name,
            info.role.to_string(),
            info.columns.to_string(),
            info.location,
        ]);
    }
    outln!("{table}");
}

/// `ensemble describe TABLE` and `\d TABLE`: the row count and a table of the columns.
pub fn render_description(description: TableDescription) -> String {
    let mut text = format!(
        "{}: {} rows\n",
        description.name,
        group_thousands(description.rows as usize)
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["column", "type", "nulls", "min", "max"]);
    for column in description.columns {
        table.add_row(vec![
            Cell::new(column.name),
            Cell::new(column.data_type),
            Cell::new(format!("{:.1} %", column.null_share * 100.0))
                .set_alignment(CellAlignment::Right),
            Cell::new(column.min.unwrap_or_default()),
            Cell::new(column.max.unwrap_or_default()),
        ]);
    }
    text.push_str(&format!("{table}\n"));
    text
}
