//! The schema clients query (`public`): the last publication's tables, replaced as a whole
//! in one step, so that a query planned during a reload sees the old tables or the new ones,
//! never a name missing in between.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::Result;

/// The served tables by name.
#[derive(Debug, Default)]
pub(crate) struct PublishedSchema {
    tables: RwLock<BTreeMap<String, Arc<dyn TableProvider>>>,
}

impl PublishedSchema {
    /// Serves `tables` instead of the previous publication.
    pub(crate) fn replace(&self, tables: Vec<(String, Arc<dyn TableProvider>)>) {
        let tables = tables.into_iter().collect();
        *self.tables.write().unwrap_or_else(|p| p.into_inner()) = tables;
    }
}

#[async_trait]
impl SchemaProvider for PublishedSchema {
    fn table_names(&self) -> Vec<String> {
        let tables = self.tables.read().unwrap_or_else(|p| p.into_inner());
        tables.keys().cloned().collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let tables = self.tables.read().unwrap_or_else(|p| p.into_inner());
        Ok(tables.get(name).cloned())
    }

    fn table_exist(&self, name: &str) -> bool {
        let tables = self.tables.read().unwrap_or_else(|p| p.into_inner());
        tables.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::catalog::MemTable;

    use super::*;

    #[tokio::test]
    async fn a_publication_replaces_the_previous_one_whole() {
        let schema = PublishedSchema::default();
        let table = || -> Arc<dyn TableProvider> {
            Arc::new(MemTable::try_new(Arc::new(Schema::empty()), vec![vec![]]).unwrap())
        };
        schema.replace(vec![("a".into(), table()), ("b".into(), table())]);
        assert_eq!(schema.table_names(), ["a", "b"]);
        schema.replace(vec![("b".into(), table()), ("c".into(), table())]);
        assert_eq!(schema.table_names(), ["b", "c"]);
        assert!(!schema.table_exist("a"));
        assert!(schema.table("c").await.unwrap().is_some());
        assert!(schema.register_table("d".into(), table()).is_err());
    }
}
