//! The SQL the documentation shows runs: `ensemble serve` over the datamart `ensemble demo`
//! makes (its generator, at 2 000 customers instead of 100 000) and examples/loyalty.seg,
//! queried with `psql`. Every statement of every ```sql block of docs/serve.md and every
//! `psql -c "…"` of docs/serve.md and README.md answers with rows; the error docs/serve.md
//! shows is the error a client gets.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use ensemble::datagen::{generate, GenerateConfig};
use ensemble_serve::{Access, RunningServer, ServeConfig};

const PASSWORD: &str = "change-me";
const SCRIPT: &str = include_str!("../../../examples/loyalty.seg");
const SERVE_MD: &str = include_str!("../../../docs/serve.md");
const README: &str = include_str!("../../../README.md");

/// The statements of the ```sql blocks of `doc`, split at `;`.
fn sql_blocks(doc: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut block: Option<String> = None;
    for line in doc.lines() {
        match (&mut block, line.trim()) {
            (None, "```sql") => block = Some(String::new()),
            (Some(text), "```") => {
                statements.extend(
                    text.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
                block = None;
            }
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    statements
}

/// The queries of the `psql … -c "…"` commands of `doc`.
fn psql_commands(doc: &str) -> Vec<String> {
    let mut queries = Vec::new();
    let mut psql = false;
    for line in doc.lines() {
        let line = line.trim();
        psql = line.contains("psql ") || (psql && line.starts_with("-c "));
        if !psql {
            continue;
        }
        for part in line.split("-c \"").skip(1) {
            let (query, _) = part.split_once('"').expect("a closing quote");
            queries.push(query.to_string());
        }
    }
    queries
}

/// `psql -c sql` against the server: its unaligned, tuples-only output, or its error text.
fn psql(addr: SocketAddr, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(addr.ip().to_string())
        .args(["-p", &addr.port().to_string()])
        .args(["-U", "ensemble", "-d", "ensemble", "-c", sql])
        .env("PGPASSWORD", PASSWORD)
        .env("PGSSLMODE", "disable")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql runs (postgresql-client)");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

async fn psql_async(addr: SocketAddr, sql: &str) -> Result<String, String> {
    let sql = sql.to_string();
    tokio::task::spawn_blocking(move || psql(addr, &sql))
        .await
        .expect("psql's task")
}

/// A server over a small datamart of the demo's generator, serving examples/loyalty.seg.
async fn serve_the_demo(dir: &std::path::Path) -> RunningServer {
    let config = GenerateConfig {
        customers: 2_000,
        ..GenerateConfig::default()
    };
    let summary = generate(dir, config, &mut |_, _| {}).expect("the datamart");
    let script = dir.join("loyalty.seg");
    std::fs::write(&script, SCRIPT).expect("the script");
    let mut config = ServeConfig::new(
        &summary.catalog,
        Access::Password {
            user: "ensemble".into(),
            password: PASSWORD.into(),
        },
    );
    config.script = Some(script);
    config.pg = Some("127.0.0.1:0".parse().unwrap());
    config.poll = Duration::from_secs(3600);
    ensemble_serve::start(config)
        .await
        .expect("the server starts")
}

#[test]
fn the_documented_queries_are_found() {
    let serve = sql_blocks(SERVE_MD);
    assert!(serve.len() >= 7, "{serve:#?}");
    assert!(
        serve.iter().any(|s| s.contains("FROM members")),
        "{serve:#?}"
    );
    let readme = psql_commands(README);
    assert_eq!(readme.len(), 2, "{readme:#?}");
    let error = psql_commands(SERVE_MD);
    assert_eq!(error, ["SELECT * FROM segment('vipp ∩ clients')"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_of_the_docs_runs_against_the_demo() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = serve_the_demo(dir.path()).await;
    let addr = server.pg.expect("postgres is served");
    let queries = sql_blocks(SERVE_MD)
        .into_iter()
        .map(|q| ("docs/serve.md", q))
        .chain(psql_commands(README).into_iter().map(|q| ("README.md", q)));
    for (doc, query) in queries {
        match psql_async(addr, &query).await {
            Ok(rows) => assert!(!rows.trim().is_empty(), "{doc}: no rows from {query}"),
            Err(error) => panic!("{doc}: {query}\n{error}"),
        }
    }

    // The error docs/serve.md shows after its `$ psql … -c "…"`, line by line.
    let shown: Vec<&str> = SERVE_MD
        .lines()
        .skip_while(|l| !l.starts_with("$ psql"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(shown.len() > 5, "{shown:?}");
    let query = &psql_commands(SERVE_MD)[0];
    let error = psql_async(addr, query)
        .await
        .expect_err("an unknown segment");
    let got: Vec<&str> = error.lines().map(str::trim_end).collect();
    for line in shown {
        assert!(
            got.contains(&line.trim_end()),
            "docs/serve.md shows\n{line}\nbut psql says\n{error}"
        );
    }
    server.stop().await;
}
