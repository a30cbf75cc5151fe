//! `ensemble serve`: one engine session served to BI tools and notebooks over the Postgres
//! wire protocol and Arrow Flight SQL.
//!
//! Clients see the catalog's tables, a view per named segment and tier (its members with
//! the universe's columns), `members` (one row per member: universe columns, score parts, a
//! flag per segment, the tier of each partition), `steps` (the last evaluation's), and table
//! functions: `segment('clients - vip' [, '2026-03-31'])`, `overlap('a, b')`, `kpi('statut')`,
//! `transition('statut', '2025-06-30', '2026-06-30')` and `report('…')`. Everything is
//! read-only; every query runs under a timeout and a memory limit of its own; a segment
//! below the minimum audience answers counts only. The script and the data are watched and
//! reloaded; a script that fails to load leaves the previous definitions serving.
#![warn(missing_docs)]

mod config;
mod error;
mod flight;
mod functions;
mod limits;
mod pg;
mod published;
mod read_only;
mod state;
mod tables;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Access, Limits, ServeConfig, TlsFiles};
pub use error::ServeError;
pub use state::{MEMBERS_TABLE, STEPS_TABLE};

use state::Shared;

/// Writes one line of the server's log to standard error.
pub(crate) fn log(message: &str) {
    eprintln!(
        "{} ensemble serve: {message}",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
    );
}

/// A running server: where it listens, and how to stop it.
pub struct RunningServer {
    /// The Postgres protocol's bound address.
    pub pg: Option<SocketAddr>,
    /// Flight SQL's bound address.
    pub flight: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl RunningServer {
    /// Loads the script and the data again now (as the watcher does when they change); on
    /// an error the previous definitions keep serving.
    pub async fn reload(&self) -> Result<(), ServeError> {
        self.shared.reload().await
    }

    /// The names of the tables served (catalog tables, sets, `members`, `steps`).
    pub fn tables(&self) -> Vec<String> {
        self.shared.published()
    }

    /// Stops listening and waits for the listeners to end (open connections are dropped).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }
}

/// Starts serving: loads the catalog and the script, binds the listeners, starts the
/// watcher. Must run on a multi-threaded tokio runtime (table functions wait for the
/// engine session while a query is planned).
pub async fn start(config: ServeConfig) -> Result<RunningServer, ServeError> {
    check_access(&config)?;
    let tls = config
        .tls
        .as_ref()
        .map(tls::Certificate::read)
        .transpose()?;
    let ctx = serving_context(&config)?;
    let shared = Shared::start(config.clone(), ctx.clone()).await?;
    functions::register(&ctx, &shared);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut pg_addr = None;
    let mut flight_addr = None;
    if let Some(addr) = config.pg {
        let listener = bind(addr).await?;
        pg_addr = Some(local(&listener, addr)?);
        let acceptor = tls
            .as_ref()
            .map(tls::Certificate::pg_acceptor)
            .transpose()?;
        let task = pg::serve(
            ctx.clone(),
            listener,
            config.access.clone(),
            acceptor,
            stopped.clone(),
        );
        tasks.push(tokio::spawn(task));
    }
    if let Some(addr) = config.flight {
        let listener = bind(addr).await?;
        flight_addr = Some(local(&listener, addr)?);
        let tls = tls.as_ref().map(tls::Certificate::flight_config);
        let task = flight::serve(
            ctx.clone(),
            listener,
            config.access.clone(),
            tls,
            stopped.clone(),
        );
        tasks.push(tokio::spawn(async move {
            if let Err(e) = task.await {
                log(&e.to_string());
            }
        }));
    }
    tasks.push(tokio::spawn(watch_sources(shared.clone(), stopped)));
    Ok(RunningServer {
        pg: pg_addr,
        flight: flight_addr,
        stop,
        tasks,
        shared,
    })
}

/// Credentials are required unless every listener is on a loopback address.
fn check_access(config: &ServeConfig) -> Result<(), ServeError> {
    if config.pg.is_none() && config.flight.is_none() {
        return Err(ServeError::Config(
            "nothing to serve: give --pg ADDR, --flight ADDR or both".into(),
        ));
    }
    if config.access == Access::InsecureLoopback {
        for addr in config.pg.iter().chain(config.flight.iter()) {
            if !addr.ip().is_loopback() {
                return Err(ServeError::Config(format!(
                    "--insecure-loopback serves loopback addresses only, not {addr}: set a \
                     password (ENSEMBLE_SERVE_PASSWORD or --password-file)"
                )));
            }
        }
    }
    Ok(())
}

/// The context clients query: DataFusion's defaults, `information_schema`, Postgres'
/// `pg_catalog`, and every physical plan under the query limits.
fn serving_context(config: &ServeConfig) -> Result<SessionContext, ServeError> {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(
            SessionConfig::new()
                .with_information_schema(true)
                // A sort's merge reserves this much up front: at most a quarter of a query's
                // memory, so that a small --query-memory still sorts (spilling).
                .with_sort_spill_reservation_bytes((config.limits.query_memory / 4).min(10 << 20)),
        )
        .with_physical_optimizer_rule(Arc::new(limits::QueryLimits::new(config.limits.clone())))
        .build();
    let ctx = SessionContext::new_with_state(state);
    setup_pg_catalog(&ctx, "datafusion", EmptyContextProvider)
        .map_err(|e| ServeError::Publish(*e))?;
    Ok(ctx)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Io {
            what: format!("listening on {addr}"),
            source,
        })
}

fn local(listener: &TcpListener, addr: SocketAddr) -> Result<SocketAddr, ServeError> {
    listener.local_addr().map_err(|source| ServeError::Io {
        what: format!("listening on {addr}"),
        source,
    })
}

/// Reloads when the script, the catalog file or the data files change, until stopped.
async fn watch_sources(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(shared.config.poll) => {}
        }
        if !shared.changed().await {
            continue;
        }
        log("the script or the data changed: reloading");
        match shared.reload().await {
            Ok(()) => log(&format!(
                "reloaded: serving {} tables",
                shared.published().len()
            )),
            Err(e) => log(&format!(
                "the reload failed; the previous definitions keep serving:\n{}",
                e.render()
            )),
        }
    }
}
