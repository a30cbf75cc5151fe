//! The served state: one engine session behind a lock, and the publication clients query
//! (the `public` schema of their SQL context) — the catalog's tables, a view per named set, the
//! per-member `members` table and `steps` — rebuilt as a whole when the script or the data
//! change, and swapped in only once it is complete.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::SystemTime;

use datafusion::catalog::{MemTable, TableProvider};
use datafusion::prelude::SessionContext;
use ensemble::{AudienceSpec, DefinitionKind, Session};
use tokio::sync::Mutex;

use crate::config::ServeConfig;
use crate::error::ServeError;
use crate::published::PublishedSchema;
use crate::tables::{set_view, StepsTable};

/// The table of one row per member: universe columns, score parts, a flag per segment and
/// the tier of each partition.
pub const MEMBERS_TABLE: &str = "members";
/// The table of the last evaluation's steps.
pub const STEPS_TABLE: &str = "steps";

/// What every listener and table function shares.
pub(crate) struct Shared {
    /// The engine session whose definitions are served.
    pub(crate) session: Mutex<Session>,
    /// The server's settings.
    pub(crate) config: ServeConfig,
    /// The schema clients query, holding the last publication.
    published: Arc<PublishedSchema>,
    /// What the served definitions and data were loaded from.
    loaded: StdMutex<Sources>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("catalog", &self.config.catalog)
            .finish_non_exhaustive()
    }
}

/// What a publication was made from: when one of these changes, the server reloads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Sources {
    script: Option<(SystemTime, u64)>,
    catalog: Option<(SystemTime, u64)>,
    data: u64,
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Shared {
    /// Loads the catalog and the script and publishes them in `ctx`.
    pub(crate) async fn start(
        config: ServeConfig,
        ctx: SessionContext,
    ) -> Result<Arc<Shared>, ServeError> {
        let sources = Shared::current_sources(&config, None);
        let session = load_session(&config).await?;
        let data = session.catalog().fingerprint();
        let published = Arc::new(PublishedSchema::default());
        let catalog = ctx.catalog("datafusion").ok_or_else(|| {
            ServeError::Config("the serving context has no catalog 'datafusion'".into())
        })?;
        catalog.register_schema("public", published.clone())?;
        let shared = Arc::new(Shared {
            session: Mutex::new(session),
            config,
            published,
            loaded: StdMutex::new(Sources { data, ..sources }),
        });
        let tables = {
            let mut session = shared.session.lock().await;
            publication(&shared, &mut session).await?
        };
        shared.register(tables);
        Ok(shared)
    }

    fn current_sources(config: &ServeConfig, data: Option<u64>) -> Sources {
        Sources {
            script: config.script.as_deref().and_then(stamp),
            catalog: stamp(&config.catalog),
            data: data.unwrap_or_default(),
        }
    }

    /// Whether the script, the catalog file or the data files changed since the last load.
    pub(crate) async fn changed(&self) -> bool {
        let data = self.session.lock().await.catalog().fingerprint();
        let now = Shared::current_sources(&self.config, Some(data));
        let loaded = self.loaded.lock().map(|l| l.clone()).unwrap_or_default();
        now != loaded
    }

    /// Loads the script and data afresh and, once everything is computed, serves them; on
    /// an error the previous definitions keep serving and the error is returned.
    pub(crate) async fn reload(self: &Arc<Shared>) -> Result<(), ServeError> {
        let sources = Shared::current_sources(&self.config, None);
        let result = async {
            let mut session = load_session(&self.config).await?;
            let tables = publication(self, &mut session).await?;
            Ok::<_, ServeError>((session, tables))
        }
        .await;
        let data = match &result {
            Ok((session, _)) => session.catalog().fingerprint(),
            Err(_) => self.session.lock().await.catalog().fingerprint(),
        };
        // A failed load is not retried until something changes again.
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = Sources { data, ..sources };
        }
        let (session, tables) = result?;
        let mut current = self.session.lock().await;
        self.register(tables);
        *current = session;
        Ok(())
    }

    /// Serves a publication's tables instead of the previous one's, in one step.
    fn register(&self, tables: Vec<(String, Arc<dyn TableProvider>)>) {
        self.published.replace(tables);
    }

    /// The names of the served tables, for listings.
    pub(crate) fn published(&self) -> Vec<String> {
        use datafusion::catalog::SchemaProvider;
        self.published.table_names()
    }
}

/// A fresh session on the catalog with the script's definitions applied (nothing evaluated,
/// no report run).
async fn load_session(config: &ServeConfig) -> Result<Session, ServeError> {
    let mut session = Session::open_with(&config.catalog, &config.session).await?;
    if let Some(date) = config.as_of {
        session.pin_as_of(date);
    }
    if let Some(script) = &config.script {
        let text = ensemble::fs::read_text_limited(script, ensemble::fs::DEFAULT_READ_LIMIT)
            .map_err(|e| ServeError::Config(e.to_string()))?;
        session.define_script(&text, &script.display().to_string())?;
    }
    Ok(session)
}

/// Everything a client sees, computed from `session`: the catalog's tables, a view per
/// segment and tier, `members` and `steps`.
async fn publication(
    shared: &Arc<Shared>,
    session: &mut Session,
) -> Result<Vec<(String, Arc<dyn TableProvider>)>, ServeError> {
    let catalog = session.catalog();
    let mut tables: Vec<(String, Arc<dyn TableProvider>)> = catalog
        .providers
        .iter()
        .map(|(name, provider)| (name.clone(), provider.clone()))
        .collect();
    let universe_table = catalog.schema.universe.table.clone();
    let key = catalog.schema.universe.key.clone();
    let columns: Vec<String> = catalog
        .schema
        .universe
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|name| *name != key)
        .collect();
    let universe = catalog
        .providers
        .get(&universe_table)
        .cloned()
        .ok_or_else(|| ServeError::Config(format!("the catalog has no table {universe_table}")))?;
    let mut sets = Vec::new();
    for listed in session.listing() {
        match listed.kind {
            DefinitionKind::Segment => sets.push(listed.name),
            DefinitionKind::Partition => sets.extend(listed.tiers.into_iter().map(|t| t.0)),
            DefinitionKind::Field | DefinitionKind::Score => {}
        }
    }
    for name in sets {
        let evaluation = session.evaluate(&name).await?;
        let view = set_view(shared, &name, &evaluation, &universe, &universe_table)?;
        tables.push((name, view));
    }
    let mut values = columns;
    for (name, score) in &session.definitions().scores {
        values.extend(
            score
                .dimensions
                .iter()
                .map(|d| format!("{name}.{}", d.field)),
        );
        values.push(format!("{name}.score"));
    }
    let spec = AudienceSpec {
        set: "all".into(),
        values,
    };
    let audience = session.audience(&spec).await?;
    let schema = match audience.batches.first() {
        Some(batch) => batch.schema(),
        None => Arc::new(datafusion::arrow::datatypes::Schema::empty()),
    };
    let members = MemTable::try_new(schema, vec![audience.batches])?;
    let taken: BTreeSet<String> = tables.iter().map(|t| t.0.clone()).collect();
    for (name, table) in [
        (MEMBERS_TABLE, Arc::new(members) as Arc<dyn TableProvider>),
        (STEPS_TABLE, Arc::new(StepsTable::new(shared.clone()))),
    ] {
        if taken.contains(name) {
            crate::log(&format!(
                "a definition or table is named {name}: the server's {name} table is not served"
            ));
        } else {
            tables.push((name.to_string(), table));
        }
    }
    Ok(tables)
}
