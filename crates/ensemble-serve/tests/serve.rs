//! `ensemble serve` end to end: a server on a free loopback port over the demo datamart,
//! queried with `psql` (the Postgres protocol) and the `arrow-flight` Flight SQL client;
//! every member list compared with the engine's own evaluation of the same script.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display;
use ensemble::demo::{write_demo_datamart, DemoConfig};
use ensemble::Session;
use ensemble_serve::{Access, Limits, RunningServer, ServeConfig};
use futures::TryStreamExt;
use tonic::transport::{Channel, Endpoint};

const PASSWORD: &str = "s3cret-for-tests";
const SCRIPT: &str = include_str!("../../../examples/loyalty.seg");

struct Fixture {
    _dir: tempfile::TempDir,
    catalog: PathBuf,
    script: PathBuf,
    server: RunningServer,
}

async fn start(extra: &str, limits: Limits) -> Fixture {
    start_with(extra, |config| config.limits = limits).await
}

/// A server over the demo datamart and examples/loyalty.seg plus `extra`, on free loopback
/// ports, with a password; `adjust` changes its configuration.
async fn start_with(extra: &str, adjust: impl FnOnce(&mut ServeConfig)) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    let script = dir.path().join("segments.seg");
    std::fs::write(&script, format!("{SCRIPT}\n{extra}")).expect("the script");
    let mut config = ServeConfig::new(
        &catalog,
        Access::Password {
            user: "ensemble".into(),
            password: PASSWORD.into(),
        },
    );
    config.script = Some(script.clone());
    config.pg = Some("127.0.0.1:0".parse().unwrap());
    config.flight = Some("127.0.0.1:0".parse().unwrap());
    config.poll = Duration::from_secs(3600);
    adjust(&mut config);
    let server = ensemble_serve::start(config)
        .await
        .expect("the server starts");
    Fixture {
        _dir: dir,
        catalog,
        script,
        server,
    }
}

/// Runs `sql` through psql: its unaligned, tuples-only output, or its error text.
fn psql(server: &RunningServer, password: &str, sql: &str) -> Result<String, String> {
    psql_at(server.pg.expect("postgres is served"), password, sql)
}

fn psql_at(addr: std::net::SocketAddr, password: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(addr.ip().to_string())
        .args([
            "-p",
            &addr.port().to_string(),
            "-U",
            "ensemble",
            "-d",
            "ensemble",
        ])
        .args(["-c", sql])
        .env("PGPASSWORD", password)
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

/// `psql` in a blocking task, so that the server's runtime keeps serving meanwhile.
async fn psql_async(server: &RunningServer, sql: &str) -> Result<String, String> {
    let addr = server.pg.expect("postgres is served");
    let sql = sql.to_string();
    tokio::task::spawn_blocking(move || psql_at(addr, PASSWORD, &sql))
        .await
        .expect("psql's task")
}

fn lines_as_keys(text: &str) -> BTreeSet<i64> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.parse().expect("a key"))
        .collect()
}

fn batch_keys(batches: &[RecordBatch]) -> BTreeSet<i64> {
    let mut keys = BTreeSet::new();
    for batch in batches {
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("integer keys");
        keys.extend((0..column.len()).map(|i| column.value(i)));
    }
    keys
}

/// The members of `expression` as `ensemble run` finds them on the same script.
async fn engine_members(catalog: &Path, script: &Path, expression: &str) -> BTreeSet<i64> {
    let mut session = Session::open(catalog).await.expect("a session");
    let text = std::fs::read_to_string(script).expect("the script");
    session.define_script(&text, "script").expect("definitions");
    let evaluation = session.evaluate(expression).await.expect("evaluation");
    batch_keys(&evaluation.members)
}

async fn flight_client(server: &RunningServer) -> FlightSqlServiceClient<Channel> {
    let addr = server.flight.expect("flight is served");
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("an endpoint")
        .connect()
        .await
        .expect("connects");
    FlightSqlServiceClient::new(channel)
}

async fn flight_query(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<Vec<RecordBatch>, arrow_flight::error::FlightError> {
    let info = client.execute(sql.to_string(), None).await?;
    let ticket = info.endpoint[0].ticket.clone().expect("a ticket");
    client.do_get(ticket).await?.try_collect().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_over_both_protocols_equal_the_engine() {
    let fx = start("", Limits::default()).await;
    let (catalog, script) = (&fx.catalog, &fx.script);
    for (sql, expression) in [
        ("SELECT customer_id FROM vip", "vip"),
        ("SELECT customer_id FROM \"statut.bons\"", "statut.bons"),
        (
            "SELECT customer_id FROM segment('clients - acheteurs_recents ∩ vip')",
            "clients - acheteurs_recents ∩ vip",
        ),
        (
            "SELECT customer_id FROM segment('clients', '2026-03-31')",
            "clients",
        ),
    ] {
        let expected = if sql.contains("2026-03-31") {
            let mut session = Session::open(catalog).await.unwrap();
            let text = std::fs::read_to_string(script).unwrap();
            session.define_script(&text, "script").unwrap();
            session.pin_as_of("2026-03-31".parse().unwrap());
            batch_keys(&session.evaluate(expression).await.unwrap().members)
        } else {
            engine_members(catalog, script, expression).await
        };
        assert!(!expected.is_empty(), "{expression} has members");
        let over_pg = lines_as_keys(&psql_async(&fx.server, sql).await.expect(sql));
        assert_eq!(over_pg, expected, "psql: {sql}");
        let mut client = flight_client(&fx.server).await;
        client
            .handshake("ensemble", PASSWORD)
            .await
            .expect("handshake");
        let over_flight = batch_keys(&flight_query(&mut client, sql).await.expect(sql));
        assert_eq!(over_flight, expected, "flight: {sql}");
    }
    // The universe's columns come with the members, and tiers and scores per member.
    let row = psql_async(
        &fx.server,
        "SELECT count(*), count(DISTINCT statut), min(\"rfm.score\") IS NOT NULL FROM members",
    )
    .await
    .unwrap();
    let universe = engine_members(catalog, script, "all").await;
    assert_eq!(row.trim(), format!("{}|5|t", universe.len()));
    let tiers = psql_async(
        &fx.server,
        "SELECT statut, count(*) FROM members GROUP BY statut ORDER BY statut",
    )
    .await
    .unwrap();
    for line in tiers.lines() {
        let (tier, count) = line.split_once('|').unwrap();
        let members = engine_members(catalog, script, &format!("statut.{tier}")).await;
        assert_eq!(count.parse::<usize>().unwrap(), members.len(), "{tier}");
    }
    let cities = psql_async(&fx.server, "SELECT count(DISTINCT city) FROM vip").await;
    assert!(cities.is_ok(), "{cities:?}");
    // Strings reach Flight SQL clients as plain UTF-8, not as Arrow view types.
    let mut client = flight_client(&fx.server).await;
    client.set_token(PASSWORD.to_string());
    let info = client
        .execute("SELECT city, email FROM vip".into(), None)
        .await
        .unwrap();
    let advertised = info.try_decode_schema().unwrap();
    let batches = flight_query(&mut client, "SELECT city, email FROM vip")
        .await
        .unwrap();
    for schema in [std::sync::Arc::new(advertised), batches[0].schema()] {
        for field in schema.fields() {
            assert_eq!(
                field.data_type(),
                &datafusion::arrow::datatypes::DataType::Utf8
            );
        }
    }
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_steps_and_catalog_queries_answer() {
    let fx = start("", Limits::default()).await;
    let kpi = psql_async(&fx.server, "SELECT set, members FROM kpi('statut')")
        .await
        .unwrap();
    let vip = engine_members(&fx.catalog, &fx.script, "statut.vip").await;
    assert!(kpi.contains(&format!("statut.vip|{}", vip.len())), "{kpi}");
    let pairs = psql_async(
        &fx.server,
        "SELECT count(*) FROM overlap('clients, vip, champions', 'pairs')",
    )
    .await
    .unwrap();
    let mut session = Session::open(&fx.catalog).await.unwrap();
    let text = std::fs::read_to_string(&fx.script).unwrap();
    session.define_script(&text, "script").unwrap();
    let report = session
        .report("overlap clients, vip, champions")
        .await
        .unwrap();
    let expected = report.batches().unwrap();
    let expected = expected.iter().find(|(name, _)| name == "pairs").unwrap();
    assert_eq!(pairs.trim(), expected.1.num_rows().to_string());
    // KPI revenue is a numeric, SQL's exact decimal sum as text, over both protocols.
    let at = session.as_of();
    let year_before = at - chrono::Months::new(12);
    let sum = session
        .sql(&format!(
            "SELECT CAST(SUM(p.amount) AS VARCHAR) FROM purchases p JOIN customers c \
             ON p.customer_id = c.customer_id WHERE c.signup_date <= DATE '{at}' \
             AND CAST(p.purchased_at AS DATE) > DATE '{year_before}' \
             AND CAST(p.purchased_at AS DATE) <= DATE '{at}'"
        ))
        .await
        .unwrap();
    let sum = display::array_value_to_string(sum[0].column(0), 0).unwrap();
    assert!(sum.contains('.'), "{sum}");
    let revenue = "SELECT revenue_12m FROM kpi('statut') WHERE \"set\" = 'all'";
    let over_pg = psql_async(&fx.server, revenue).await.unwrap();
    assert_eq!(over_pg.trim(), sum);
    let mut client = flight_client(&fx.server).await;
    client
        .handshake("ensemble", PASSWORD)
        .await
        .expect("handshake");
    let over_flight = flight_query(&mut client, revenue).await.unwrap();
    assert_eq!(
        display::array_value_to_string(over_flight[0].column(0), 0).unwrap(),
        sum
    );
    let moves = psql_async(
        &fx.server,
        "SELECT count(*) FROM transition('statut', '2025-06-30', '2026-06-30')",
    )
    .await;
    assert!(moves.is_ok(), "{moves:?}");
    // Each argument is read on its own by the language's parser: one that would add
    // measures, swallow the rest with a comment or splice a second statement is an error.
    for sql in [
        "SELECT * FROM kpi('statut with sum(purchases.amount) as x')",
        "SELECT * FROM transition('statut from 2020-01-01 to 2020-02-01 --', '2025-06-30', '2026-06-30')",
        "SELECT * FROM overlap('clients; snapshot vip')",
        "SELECT * FROM report('kpi statut; snapshot vip')",
        "SELECT * FROM report('-- a comment\nsnapshot vip')",
    ] {
        let refused = psql_async(&fx.server, sql).await.unwrap_err();
        assert!(refused.contains("ERROR"), "{sql}: {refused}");
    }
    // Whether a report only reads is decided on its tree: a comment before it is no disguise.
    let commented = psql_async(
        &fx.server,
        "SELECT count(*) FROM report('-- the tiers\nkpi statut')",
    )
    .await;
    assert!(commented.is_ok(), "{commented:?}");
    psql_async(&fx.server, "SELECT count(*) FROM segment('vip ∩ clients')")
        .await
        .unwrap();
    let steps = psql_async(&fx.server, "SELECT count(*) > 0 FROM steps")
        .await
        .unwrap();
    assert_eq!(steps.trim(), "t");
    // What BI tools ask on connect.
    let listed = psql_async(&fx.server, "\\dv").await.unwrap();
    assert!(listed.contains("vip"), "{listed}");
    let tables = psql_async(
        &fx.server,
        "SELECT table_name FROM information_schema.tables WHERE table_name = 'customers'",
    )
    .await
    .unwrap();
    assert_eq!(tables.trim(), "customers");
    psql_async(&fx.server, "SELECT version()").await.unwrap();
    psql_async(&fx.server, "SELECT * FROM pg_catalog.pg_namespace")
        .await
        .unwrap();
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let fx = start("segment tiny = [customer_id <= 3];", Limits::default()).await;
    let server = &fx.server;
    // A wrong password.
    let wrong = psql(server, "not-the-password", "SELECT 1").unwrap_err();
    assert!(wrong.to_lowercase().contains("password"), "{wrong}");
    // The language's errors, with their caret and suggestion.
    let unknown = psql_async(server, "SELECT * FROM segment('vipp ∩ clients')")
        .await
        .unwrap_err();
    assert!(
        unknown.contains("vipp") && unknown.contains("vip"),
        "{unknown}"
    );
    assert!(
        unknown.contains('^') || unknown.contains('─'),
        "a caret: {unknown}"
    );
    let bad_date = psql_async(server, "SELECT * FROM segment('vip', 'June')")
        .await
        .unwrap_err();
    assert!(bad_date.contains("not a date"), "{bad_date}");
    // Read-only: no DDL, no DML, no file written, no engine setting changed.
    for sql in [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE vip",
        "INSERT INTO customers SELECT * FROM customers",
        "COPY (SELECT 1) TO '/tmp/ensemble-serve-copy.csv'",
        "SET datafusion.execution.batch_size = 1",
        // Decided on the plan: comments and `WITH` disguise nothing.
        "  /*x*/ DELETE FROM customers",
        "EXPLAIN ANALYZE INSERT INTO customers SELECT * FROM customers",
    ] {
        let refused = psql_async(server, sql).await.unwrap_err();
        assert!(refused.contains("read-only"), "{sql}: {refused}");
    }
    // A write DataFusion cannot plan does not run either.
    let with_insert = "WITH x AS (SELECT * FROM customers) INSERT INTO customers SELECT * FROM x";
    assert!(psql_async(server, with_insert).await.is_err());
    // A query behind a comment or in parentheses is a query.
    let count = psql_async(server, "/* c */ (SELECT count(*) > 0 FROM customers)")
        .await
        .unwrap();
    assert_eq!(count.trim(), "t");
    assert!(!Path::new("/tmp/ensemble-serve-copy.csv").exists());
    // DataFusion's own DDL (reading any file as a table) is refused as well.
    let external = psql_async(
        server,
        "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
    )
    .await
    .unwrap_err();
    assert!(external.contains("ERROR"), "{external}");
    assert!(psql_async(server, "SELECT * FROM t").await.is_err());
    // A malformed query.
    let malformed = psql_async(server, "SELEC 1").await.unwrap_err();
    assert!(malformed.to_lowercase().contains("error"), "{malformed}");
    // Below the minimum audience: counts only.
    assert_eq!(
        psql_async(server, "SELECT count(*) FROM tiny")
            .await
            .unwrap()
            .trim(),
        "3"
    );
    let members = psql_async(server, "SELECT customer_id FROM tiny")
        .await
        .unwrap_err();
    assert!(members.contains("minimum audience"), "{members}");
    let members = psql_async(server, "SELECT * FROM segment('[customer_id <= 3]')")
        .await
        .unwrap_err();
    assert!(members.contains("minimum audience"), "{members}");
    // Flight SQL: no credentials, wrong ones, a refused statement.
    let mut anonymous = flight_client(server).await;
    assert!(flight_query(&mut anonymous, "SELECT 1").await.is_err());
    let mut wrong = flight_client(server).await;
    assert!(wrong.handshake("ensemble", "nope").await.is_err());
    let mut client = flight_client(server).await;
    client.set_token(PASSWORD.to_string());
    for sql in [
        "CREATE TABLE y AS SELECT 1",
        "/* c */ DELETE FROM customers",
    ] {
        let refused = format!("{:?}", flight_query(&mut client, sql).await.unwrap_err());
        assert!(refused.contains("read-only"), "{sql}: {refused}");
    }
    // A client that goes away mid-result.
    let mut child = Command::new("psql")
        .args([
            "-X",
            "-At",
            "-h",
            "127.0.0.1",
            "-U",
            "ensemble",
            "-d",
            "ensemble",
            "-p",
        ])
        .arg(server.pg.unwrap().port().to_string())
        .args([
            "-c",
            "SELECT * FROM purchases CROSS JOIN (SELECT 1 UNION ALL SELECT 2)",
        ])
        .env("PGPASSWORD", PASSWORD)
        .env("PGSSLMODE", "disable")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = child.kill();
    let _ = child.wait();
    let mut stream_client = flight_client(server).await;
    stream_client.set_token(PASSWORD.to_string());
    let info = stream_client
        .execute("SELECT * FROM purchases".into(), None)
        .await
        .unwrap();
    let mut stream = stream_client
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    let _first = stream.try_next().await.unwrap();
    drop(stream);
    // Still serving, over both protocols.
    assert_eq!(psql_async(server, "SELECT 1").await.unwrap().trim(), "1");
    let batches = flight_query(&mut client, "SELECT count(*) FROM vip")
        .await
        .unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_clients_each_run_a_segment_query() {
    let fx = start("", Limits::default()).await;
    let expected = engine_members(&fx.catalog, &fx.script, "clients ∩ [city = 'Paris']").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut client = flight_client(&fx.server).await;
        client.set_token(PASSWORD.to_string());
        tasks.push(tokio::spawn(async move {
            let sql = if i % 2 == 0 {
                "SELECT customer_id FROM segment('clients ∩ [city = ''Paris'']')"
            } else {
                "SELECT customer_id FROM segment('[city = ''Paris''] ∩ clients')"
            };
            batch_keys(&flight_query(&mut client, sql).await.expect("a query"))
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), expected);
    }
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_script_is_served_and_a_broken_one_keeps_the_previous() {
    let fx = start_with("segment gros = [ca_12m >= 300];", |config| {
        config.poll = Duration::from_millis(200)
    })
    .await;
    let before = psql_async(&fx.server, "SELECT count(*) FROM gros")
        .await
        .unwrap();
    // The watcher sees the new script and serves it.
    std::fs::write(
        &fx.script,
        format!("{SCRIPT}\nsegment gros = [ca_12m >= 100];\nsegment neuf = [points > 0];"),
    )
    .unwrap();
    let expected = engine_members(&fx.catalog, &fx.script, "gros").await;
    let mut after = before.clone();
    for _ in 0..100 {
        after = psql_async(&fx.server, "SELECT count(*) FROM gros")
            .await
            .unwrap();
        if after != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(after.trim(), expected.len().to_string());
    assert_ne!(before, after);
    psql_async(&fx.server, "SELECT count(*) FROM neuf")
        .await
        .unwrap();
    // A broken script is refused with its caret; the previous definitions keep serving.
    std::fs::write(&fx.script, "segment gros = [ca_12m >= ;").unwrap();
    let error = fx.server.reload().await.unwrap_err();
    assert!(error.render().contains('─'), "{}", error.render());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let still = psql_async(&fx.server, "SELECT count(*) FROM gros")
        .await
        .unwrap();
    assert_eq!(still, after);
    psql_async(&fx.server, "SELECT count(*) FROM neuf")
        .await
        .unwrap();
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_data_files_are_served() {
    let fx = start_with("", |config| config.poll = Duration::from_millis(200)).await;
    let before = psql_async(&fx.server, "SELECT count(*) FROM customers")
        .await
        .unwrap();
    // A new datamart over the same files: fewer customers, so every set changes too.
    let dir = fx.catalog.parent().unwrap();
    let smaller = DemoConfig {
        customers: 500,
        ..DemoConfig::default()
    };
    write_demo_datamart(dir, smaller).expect("the new data");
    let expected = engine_members(&fx.catalog, &fx.script, "vip").await;
    // The watcher may publish a state caught between two files first: wait for the last.
    let (mut customers, mut vip) = (before.clone(), BTreeSet::new());
    for _ in 0..100 {
        // A publication is swapped whole: no query fails while the server reloads.
        customers = psql_async(&fx.server, "SELECT count(*) FROM customers")
            .await
            .expect("served while reloading");
        vip = lines_as_keys(
            &psql_async(&fx.server, "SELECT customer_id FROM vip")
                .await
                .expect("served while reloading"),
        );
        if customers.trim() == "500" && vip == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(customers.trim(), "500");
    assert_eq!(vip, expected);
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_required_once_a_certificate_is_given() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let files = ensemble_serve::TlsFiles {
        certificate: cert.clone(),
        key: key.clone(),
    };
    let fx = start_with("", |config| config.tls = Some(files)).await;
    let addr = fx.server.pg.unwrap();
    let plain = psql_at(addr, PASSWORD, "SELECT 1").unwrap_err();
    assert!(plain.contains("TLS"), "{plain}");
    let secure = Command::new("psql")
        .args(["-X", "-At", "-c", "SELECT count(*) > 0 FROM vip"])
        .arg(format!(
            "host=127.0.0.1 port={} user=ensemble dbname=ensemble sslmode=require",
            addr.port()
        ))
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        secure.status.success(),
        "{}",
        String::from_utf8_lossy(&secure.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&secure.stdout).trim(), "t");
    let pem = std::fs::read(&cert).unwrap();
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(pem))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!(
        "https://localhost:{}",
        fx.server.flight.unwrap().port()
    ))
    .unwrap()
    .tls_config(tls)
    .unwrap()
    .connect()
    .await
    .expect("a TLS channel");
    let mut client = FlightSqlServiceClient::new(channel);
    client
        .handshake("ensemble", PASSWORD)
        .await
        .expect("handshake over TLS");
    let batches = flight_query(&mut client, "SELECT count(*) FROM vip")
        .await
        .unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    // A certificate that cannot be read stops the server from starting.
    let broken = ensemble_serve::TlsFiles {
        certificate: certs.path().join("missing.pem"),
        key,
    };
    let mut config = ServeConfig::new(&fx.catalog, Access::InsecureLoopback);
    config.pg = Some("127.0.0.1:0".parse().unwrap());
    config.tls = Some(broken);
    let refused = ensemble_serve::start(config).await.err().expect("refused");
    assert!(refused.to_string().contains("missing.pem"), "{refused}");
    fx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_limits_fails_clearly() {
    // Too long: the deadline ends the stream.
    let limits = Limits {
        timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let fx = start("", limits).await;
    let slow = psql_async(
        &fx.server,
        "SELECT count(*) FROM purchases a, purchases b, visits c WHERE a.amount + b.amount > c.customer_id",
    )
    .await
    .unwrap_err();
    assert!(slow.contains("timeout"), "{slow}");
    assert_eq!(
        psql_async(&fx.server, "SELECT 1").await.unwrap().trim(),
        "1"
    );
    fx.server.stop().await;
    // Too large: a hash table that cannot spill fails naming the limit; a sort spills.
    let limits = Limits {
        query_memory: 256 << 10,
        ..Limits::default()
    };
    let fx = start("", limits).await;
    let large = psql_async(
        &fx.server,
        "SELECT count(*) FROM purchases a JOIN purchases b ON a.amount = b.amount",
    )
    .await
    .unwrap_err();
    assert!(large.contains("--query-memory"), "{large}");
    let sorted = psql_async(
        &fx.server,
        "SELECT customer_id FROM purchases ORDER BY amount, customer_id",
    )
    .await;
    let expected = psql_async(&fx.server, "SELECT count(*) FROM purchases")
        .await
        .unwrap();
    match sorted {
        Ok(rows) => assert_eq!(rows.lines().count().to_string(), expected.trim()),
        Err(e) => assert!(e.contains("--query-memory"), "{e}"),
    }
    // Counting a segment needs next to no memory: it still answers.
    let vip = engine_members(&fx.catalog, &fx.script, "vip").await;
    let counted = psql_async(&fx.server, "SELECT count(*) FROM vip").await;
    assert_eq!(counted.unwrap().trim(), vip.len().to_string());
    fx.server.stop().await;
}
