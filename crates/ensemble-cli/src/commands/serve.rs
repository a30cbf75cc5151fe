//! `ensemble serve`: the catalog, the script's segments, tiers, scores and reports over the
//! Postgres wire protocol and Arrow Flight SQL, until a signal stops it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use ensemble::SessionOptions;
use ensemble_serve::{Access, Limits, ServeConfig, TlsFiles};

use crate::cli::ServeArgs;
use crate::error::CliError;
use crate::stdio::errln;

/// Where the password comes from when no file is given.
pub const PASSWORD_VARIABLE: &str = "ENSEMBLE_SERVE_PASSWORD";

/// The Postgres address when neither protocol is named.
const DEFAULT_PG: &str = "127.0.0.1:5433";

/// Serves until the process is stopped (Ctrl-C, SIGTERM).
pub async fn run(args: ServeArgs, options: &SessionOptions) -> Result<(), CliError> {
    let config = config(args, options)?;
    let server = ensemble_serve::start(config)
        .await
        .map_err(|e| CliError::Data(e.render()))?;
    if let Some(addr) = server.pg {
        errln!(
            "Postgres wire protocol on {addr}: psql \"host={} port={} user=… dbname=ensemble\"",
            addr.ip(),
            addr.port()
        );
    }
    if let Some(addr) = server.flight {
        errln!("Arrow Flight SQL on grpc://{addr}");
    }
    errln!("serving {} tables; Ctrl-C stops", server.tables().len());
    std::future::pending::<()>().await;
    Ok(())
}

fn config(args: ServeArgs, options: &SessionOptions) -> Result<ServeConfig, CliError> {
    let access = access(&args)?;
    let mut config = ServeConfig::new(args.catalog, access);
    config.script = args.script;
    config.as_of = args.as_of;
    config.pg = args.pg;
    config.flight = args.flight;
    if config.pg.is_none() && config.flight.is_none() {
        config.pg = DEFAULT_PG.parse::<SocketAddr>().ok();
    }
    config.tls = match (args.tls_cert, args.tls_key) {
        (Some(certificate), Some(key)) => Some(TlsFiles { certificate, key }),
        (None, None) => None,
        _ => return Err(CliError::language("--tls-cert and --tls-key go together")),
    };
    let defaults = Limits::default();
    config.limits = Limits {
        timeout: Duration::from_secs(args.query_timeout),
        query_memory: args.query_memory.unwrap_or(defaults.query_memory),
        min_audience: args.min_audience,
    };
    config.session = options.clone();
    config.poll = Duration::from_secs(args.poll.max(1));
    Ok(config)
}

fn access(args: &ServeArgs) -> Result<Access, CliError> {
    if args.insecure_loopback {
        return Ok(Access::InsecureLoopback);
    }
    let password = match &args.password_file {
        Some(path) => read_password(path)?,
        None => std::env::var(PASSWORD_VARIABLE).unwrap_or_default(),
    };
    if password.is_empty() {
        return Err(CliError::language(format!(
            "a password is required: set {PASSWORD_VARIABLE} or --password-file FILE (or \
             --insecure-loopback for a server on 127.0.0.1 without one)"
        )));
    }
    Ok(Access::Password {
        user: args.user.clone(),
        password,
    })
}

fn read_password(path: &Path) -> Result<String, CliError> {
    let text = ensemble::fs::read_text_limited(path, 4096)
        .map_err(|e| CliError::data(format!("the password file: {e}")))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}
