//! The Postgres wire protocol (pgwire through `datafusion-postgres`): our own accept loop
//! (so that a test can bind port 0 and a server can stop), password authentication, TLS,
//! and a guard hook that plans every statement and refuses any plan that would change
//! something (see `read_only`).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::encode_dataframe;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::auth::cleartext::CleartextPasswordAuthStartupHandler;
use datafusion_postgres::pgwire::api::auth::noop::NoopStartupHandler;
use datafusion_postgres::pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use datafusion_postgres::pgwire::api::cancel::DefaultCancelHandler;
use datafusion_postgres::pgwire::api::portal::Format;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::api::{ClientInfo, ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::{process_socket, TlsAcceptor};
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::Sink;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Access;
use crate::read_only::{self, Refusal};

/// Serves `ctx` on `listener` until `stop` turns true; each connection in its own task.
pub(crate) async fn serve(
    ctx: SessionContext,
    listener: TcpListener,
    access: Access,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let manager = Arc::new(ConnectionManager::new());
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(ReadOnlyHook),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
        Arc::new(CursorStatementHook),
    ];
    let handlers = Arc::new(Handlers {
        service: Arc::new(DfSessionService::new_with_hooks(Arc::new(ctx), hooks)),
        manager,
        access,
        require_tls: tls.is_some(),
    });
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let handlers = handlers.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        if let Err(e) = process_socket(socket, tls, handlers).await {
                            crate::log(&format!("postgres connection ended: {e}"));
                        }
                    });
                }
                Err(e) => crate::log(&format!("postgres accept failed: {e}")),
            },
        }
    }
}

struct Handlers {
    service: Arc<DfSessionService>,
    manager: Arc<ConnectionManager>,
    access: Access,
    require_tls: bool,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        let check = match &self.access {
            Access::InsecureLoopback => Check::Open(Open(self.manager.clone())),
            Access::Password { user, password } => Check::Password(Box::new(
                CleartextPasswordAuthStartupHandler::new(
                    Credentials {
                        user: user.clone(),
                        password: password.clone(),
                    },
                    DefaultServerParameterProvider::default(),
                )
                .with_connection_manager(self.manager.clone()),
            )),
        };
        Arc::new(Startup {
            check,
            require_tls: self.require_tls,
        })
    }

    fn cancel_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::cancel::CancelHandler> {
        Arc::new(DefaultCancelHandler::new(self.manager.clone()))
    }
}

/// The one user and password the server accepts.
#[derive(Clone)]
struct Credentials {
    user: String,
    password: String,
}

impl Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AuthSource for Credentials {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        if login.user() == Some(self.user.as_str()) {
            Ok(Password::new(None, self.password.clone().into_bytes()))
        } else {
            // Another user gets a password nobody can type: the same answer as a wrong one.
            Ok(Password::new(None, vec![0xff; 33]))
        }
    }
}

/// No authentication (loopback only).
struct Open(Arc<ConnectionManager>);

impl NoopStartupHandler for Open {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(self.0.clone())
    }
}

enum Check {
    Open(Open),
    Password(Box<CleartextPasswordAuthStartupHandler<Credentials, DefaultServerParameterProvider>>),
}

/// Refuses a plaintext connection when the server has a certificate, then authenticates.
struct Startup {
    check: Check,
    require_tls: bool,
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if self.require_tls && !client.is_secure() {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "28000".into(),
                "this server requires TLS: connect with sslmode=require".into(),
            ))));
        }
        match &self.check {
            Check::Open(open) => open.on_startup(client, message).await,
            Check::Password(password) => password.on_startup(client, message).await,
        }
    }
}

/// Lets `SET` (of client settings), `SHOW`, transactions and cursors through to the next
/// hooks, and plans everything else, refusing a plan that would change anything.
struct ReadOnlyHook;

fn refused(what: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "25006".into(),
        Refusal::message(what),
    )))
}

fn api_error(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

enum Verdict {
    /// Planned here; the plan decides whether it runs.
    Plan,
    /// A client setting, transaction or cursor statement: the next hooks answer.
    Pass,
}

/// Which hook answers `statement`. Only what the next hooks answer passes; whether anything
/// else reads or writes is decided on its plan, not here.
fn verdict(statement: &Statement) -> Verdict {
    match statement {
        // A client setting (`SET DateStyle`); the engine's options are planned, and refused.
        Statement::Set(_)
            if !statement
                .to_string()
                .to_ascii_lowercase()
                .contains("datafusion.") =>
        {
            Verdict::Pass
        }
        Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. } => Verdict::Pass,
        _ => Verdict::Plan,
    }
}

/// Plans `statement` and returns the plan when it only reads. A statement DataFusion does
/// not plan from the Postgres parser's tree (`COPY … TO` has its own parser) is planned from
/// its text, so that what it would do is still named.
async fn plan_read_only(ctx: &SessionContext, statement: &Statement) -> PgWireResult<LogicalPlan> {
    let parsed = datafusion::sql::parser::Statement::Statement(Box::new(statement.clone()));
    let state = ctx.state();
    let plan = match state.statement_to_plan(parsed).await {
        Ok(plan) => plan,
        Err(error @ datafusion::error::DataFusionError::NotImplemented(_)) => state
            .create_logical_plan(&statement.to_string())
            .await
            .map_err(|_| api_error(error))?,
        Err(error) => return Err(api_error(error)),
    };
    read_only::verify(plan).map_err(|refusal| match refusal {
        Refusal::Writes(what) => refused(&what),
        Refusal::Plan(error) => api_error(error),
    })
}

#[async_trait]
impl QueryHook for ReadOnlyHook {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        match verdict(statement) {
            Verdict::Pass => None,
            Verdict::Plan => Some(
                async {
                    let plan = plan_read_only(ctx, statement).await?;
                    let frame = ctx.execute_logical_plan(plan).await.map_err(api_error)?;
                    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                    let response =
                        encode_dataframe(frame, &Format::UnifiedText, Some(options)).await?;
                    Ok(Response::Query(response))
                }
                .await,
            ),
        }
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        match verdict(statement) {
            Verdict::Pass => None,
            Verdict::Plan => Some(plan_read_only(ctx, statement).await),
        }
    }

    async fn handle_extended_query(
        &self,
        _statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // Planned read-only at parse; executed by the service under the query limits.
        None
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::{verdict, Verdict};

    fn read(sql: &str) -> Verdict {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        verdict(&statements[0])
    }

    /// Client settings, transactions and cursors pass to the next hooks; everything else is
    /// planned, and its plan decides (`read_only`'s tests).
    #[test]
    fn client_settings_pass_and_everything_else_is_planned() {
        for sql in [
            "SET DateStyle = 'ISO'",
            "SET search_path = public",
            "SHOW server_version",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
        ] {
            assert!(matches!(read(sql), Verdict::Pass), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "/* c */ (SELECT 1)",
            "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
            "  /*x*/ DELETE FROM t",
            "CREATE TABLE t (a INT)",
            "COPY t TO '/tmp/x'",
            "SET datafusion.execution.batch_size = 1",
        ] {
            assert!(matches!(read(sql), Verdict::Plan), "{sql}");
        }
    }
}
