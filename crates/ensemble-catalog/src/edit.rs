//! Editing a catalog in place (`ensemble import`): tables added or replaced, the user's
//! comments and layout kept (`toml_edit`), the result read back with the model's reader.

use std::path::Path;

use crate::{CatalogError, CatalogFile, TableSection, UniverseSection};

/// A catalog being edited.
#[derive(Debug, Clone, Default)]
pub struct Document {
    doc: toml_edit::DocumentMut,
    /// The model of the text as read (kept in step with the edits).
    model: Option<CatalogFile>,
}

impl Document {
    /// Reads the catalog at `path` (an empty one when the file does not exist).
    pub fn read(path: &Path) -> Result<Document, CatalogError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Document::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Document::default()),
            Err(source) => Err(CatalogError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses a catalog's text: valid TOML of the catalog's shape, which may still lack its
    /// universe (a catalog being built table by table).
    pub fn parse(text: &str) -> Result<Document, CatalogError> {
        let doc = text
            .parse::<toml_edit::DocumentMut>()
            .map_err(|e| CatalogError::Invalid {
                message: e.to_string(),
            })?;
        let model = toml::from_str::<CatalogFile>(text).map_err(|e| CatalogError::Invalid {
            message: e.to_string(),
        })?;
        Ok(Document {
            doc,
            model: Some(model),
        })
    }

    fn model(&self) -> Option<&CatalogFile> {
        self.model.as_ref()
    }

    /// Whether the catalog has a table of that name.
    pub fn has_table(&self, name: &str) -> bool {
        self.model().is_some_and(|m| m.tables.contains_key(name))
    }

    /// The data file the catalog names for `table`.
    pub fn table_path(&self, name: &str) -> Option<&str> {
        Some(self.model()?.tables.get(name)?.path.as_str())
    }

    /// Every data file the catalog names.
    pub fn paths(&self) -> Vec<String> {
        self.model()
            .map(|m| m.paths().map(|(_, path)| path.to_string()).collect())
            .unwrap_or_default()
    }

    /// Adds or replaces `[tables.NAME]`.
    pub fn set_table(&mut self, name: &str, section: &TableSection) {
        let tables = self.doc.entry("tables").or_insert_with(|| {
            let mut table = toml_edit::Table::new();
            table.set_implicit(true);
            toml_edit::Item::Table(table)
        });
        let mut table = toml_edit::Table::new();
        table.insert("path", toml_edit::value(section.path.as_str()));
        if let Some(key) = &section.key {
            table.insert("key", toml_edit::value(key.as_str()));
        }
        if let Some(time) = &section.time {
            table.insert("time", toml_edit::value(time.as_str()));
        }
        tables[name] = toml_edit::Item::Table(table);
        if let Some(model) = &mut self.model {
            model.tables.insert(name.to_string(), section.clone());
        }
    }

    /// Replaces `[universe]`.
    pub fn set_universe(&mut self, section: &UniverseSection) {
        let mut universe = toml_edit::Table::new();
        universe.insert("table", toml_edit::value(section.table.as_str()));
        universe.insert("key", toml_edit::value(section.key.as_str()));
        if let Some(since) = &section.since {
            universe.insert("since", toml_edit::value(since.as_str()));
        }
        self.doc["universe"] = toml_edit::Item::Table(universe);
        if let Some(model) = &mut self.model {
            model.universe = section.clone();
        }
    }

    /// The edited text, checked by the model's reader (the shape of a catalog).
    pub fn text(&self) -> Result<String, CatalogError> {
        let text = self.doc.to_string();
        toml::from_str::<CatalogFile>(&text).map_err(|e| CatalogError::Invalid {
            message: e.to_string(),
        })?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_and_read_back() {
        let mut document = Document::parse(
            "# mine\nas_of = 2026-06-30\n\n[tables.customers]\npath = \"c.parquet\" # keep\n",
        )
        .unwrap();
        assert!(document.has_table("customers"));
        document.set_table(
            "purchases",
            &TableSection::related("purchases.parquet", "customer_id", "purchased_at"),
        );
        let text = document.text().unwrap();
        assert!(text.contains("# mine") && text.contains("# keep"), "{text}");
        let file = CatalogFile::parse(&text).unwrap();
        assert_eq!(
            file.tables["purchases"].time.as_deref(),
            Some("purchased_at")
        );
        assert_eq!(document.paths(), ["c.parquet", "purchases.parquet"]);
    }
}
