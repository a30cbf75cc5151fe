//! What a server is told: the catalog and script it serves, where it listens, who may
//! connect, and the limits every query runs under.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use ensemble::SessionOptions;

/// Everything `ensemble serve` is given.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The catalog file (TOML).
    pub catalog: PathBuf,
    /// The script whose definitions are served, reloaded when it changes.
    pub script: Option<PathBuf>,
    /// A fixed evaluation date (else the script's `as of`, else the catalog's date).
    pub as_of: Option<NaiveDate>,
    /// Where the Postgres wire protocol listens (`None`: not served).
    pub pg: Option<SocketAddr>,
    /// Where Arrow Flight SQL listens (`None`: not served).
    pub flight: Option<SocketAddr>,
    /// Who may connect.
    pub access: Access,
    /// A certificate and key (PEM) for TLS on both protocols.
    pub tls: Option<TlsFiles>,
    /// The limits of every query.
    pub limits: Limits,
    /// The engine session's options (its memory limit).
    pub session: SessionOptions,
    /// How often the script and the data files are checked for changes.
    pub poll: Duration,
}

impl ServeConfig {
    /// A configuration serving `catalog` over the Postgres protocol on `pg`, with the
    /// default limits and no TLS.
    pub fn new(catalog: impl Into<PathBuf>, access: Access) -> ServeConfig {
        ServeConfig {
            catalog: catalog.into(),
            script: None,
            as_of: None,
            pg: None,
            flight: None,
            access,
            tls: None,
            limits: Limits::default(),
            session: SessionOptions::default(),
            poll: Duration::from_secs(2),
        }
    }
}

/// Who may connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A user name and its password (Postgres), also accepted as a Flight SQL bearer token
    /// or basic credentials.
    Password {
        /// The user name clients give.
        user: String,
        /// The password (or token).
        password: String,
    },
    /// No credentials: allowed only when every listener is on a loopback address
    /// (`--insecure-loopback`).
    InsecureLoopback,
}

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM).
    pub certificate: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The limits every client query runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest time a query may take, planning (segment evaluation) and streaming included.
    pub timeout: Duration,
    /// Memory one query's operators may hold (bytes); sorts and aggregates spill beyond it.
    pub query_memory: usize,
    /// Smallest audience whose members may be read: a segment with fewer members answers
    /// counts (`SELECT count(*)`) but refuses member-level queries.
    pub min_audience: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(300),
            query_memory: 2 << 30,
            min_audience: 10,
        }
    }
}
