//! Arrow Flight SQL (`arrow-flight`'s `FlightSqlService`, implemented here): statements and
//! prepared statements planned read-only, catalog listings for any catalog, SQL info, and
//! basic or bearer authentication with a handshake that issues a token.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTables, CommandPreparedStatementQuery, CommandStatementQuery,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket,
};
use base64::prelude::BASE64_STANDARD;
use base64::Engine;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::{Stream, TryStreamExt};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::metadata::MetadataValue;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Server, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

use crate::config::Access;
use crate::error::ServeError;
use crate::read_only::{self, Refusal};

type Handshakes = Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>;
type DoGetStream = <Service as FlightService>::DoGetStream;

/// Serves `ctx` over Flight SQL on `listener` until `stop` turns true.
pub(crate) async fn serve(
    ctx: SessionContext,
    listener: TcpListener,
    access: Access,
    tls: Option<ServerTlsConfig>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let service = Service {
        ctx,
        access,
        tokens: Mutex::new(HashSet::new()),
    };
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| ServeError::Tls(e.to_string()))?;
    }
    builder
        .add_service(FlightServiceServer::new(service))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
            let _ = stop.changed().await;
        })
        .await
        .map_err(|e| ServeError::Config(format!("Flight SQL server: {e}")))
}

pub(crate) struct Service {
    ctx: SessionContext,
    access: Access,
    /// Tokens handed out by handshakes.
    tokens: Mutex<HashSet<String>>,
}

/// A DataFusion error as a gRPC status: the query's fault, the server's limit, or a failure.
fn status(error: DataFusionError) -> Status {
    match error.find_root() {
        DataFusionError::Plan(_) | DataFusionError::SQL(..) | DataFusionError::SchemaError(..) => {
            Status::invalid_argument(error.to_string())
        }
        DataFusionError::ResourcesExhausted(_) => Status::resource_exhausted(error.to_string()),
        _ => Status::internal(error.to_string()),
    }
}

/// What the server says of itself to `GetSqlInfo` (ADBC asks on connect).
fn sql_info() -> Result<&'static SqlInfoData, Status> {
    static DATA: OnceLock<Option<SqlInfoData>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut builder = SqlInfoDataBuilder::new();
        builder.append(SqlInfo::FlightSqlServerName, "ensemble");
        builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        builder.append(SqlInfo::FlightSqlServerArrowVersion, "59");
        builder.append(SqlInfo::FlightSqlServerReadOnly, true);
        builder.append(SqlInfo::FlightSqlServerTransaction, 0i32);
        builder.build().ok()
    })
    .as_ref()
    .ok_or_else(|| Status::internal("the server's SQL info could not be built"))
}

/// 16 random bytes from the system, as hex.
fn new_token() -> Result<String, Status> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Status::internal(format!("no randomness for a token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The schema clients get: Arrow's view types as their plain forms (`Utf8View` as `Utf8`,
/// `BinaryView` as `Binary`), which JDBC and ODBC drivers built on older Arrow read.
fn plain_schema(schema: &Schema) -> Arc<Schema> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            DataType::BinaryView => f.as_ref().clone().with_data_type(DataType::Binary),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` in [`plain_schema`]'s types.
fn plain_batch(batch: RecordBatch, schema: &Arc<Schema>) -> Result<RecordBatch, FlightError> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

fn info(
    ticket: Vec<u8>,
    schema: &Schema,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor))
}

fn one_batch(schema: Arc<Schema>, batch: Result<RecordBatch, FlightError>) -> DoGetStream {
    Box::pin(
        FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(futures::stream::once(async { batch }))
            .map_err(Status::from),
    )
}

impl Service {
    /// Accepts valid basic credentials, a token from a handshake, or the password as a
    /// bearer token; anything goes on an insecure loopback server.
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Access::Password { user, password } = &self.access else {
            return Ok(());
        };
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("credentials required (basic or bearer)"))?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            let known = self
                .tokens
                .lock()
                .map(|t| t.contains(token))
                .unwrap_or(false);
            if known || token == password {
                return Ok(());
            }
        } else if let Some(encoded) = header.strip_prefix("Basic ") {
            let decoded = BASE64_STANDARD.decode(encoded).unwrap_or_default();
            let text = String::from_utf8_lossy(&decoded);
            if text.split_once(':') == Some((user.as_str(), password.as_str())) {
                return Ok(());
            }
        }
        Err(Status::unauthenticated(
            "wrong user name, password or token",
        ))
    }

    /// The flight of a listing command: its ticket is the command itself.
    fn listing_info(
        &self,
        request: Request<FlightDescriptor>,
        ticket: Vec<u8>,
        schema: Arc<Schema>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        Ok(Response::new(info(ticket, &schema, request.into_inner())?))
    }

    /// Plans `sql`, refusing a plan that would change anything (see `read_only`).
    async fn plan(&self, sql: &str) -> Result<DataFrame, Status> {
        read_only::plan_sql(&self.ctx, sql)
            .await
            .map_err(|refusal| match refusal {
                Refusal::Writes(what) => Status::invalid_argument(Refusal::message(&what)),
                Refusal::Plan(error) => status(error),
            })
    }

    async fn statement_info(
        &self,
        sql: &str,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let frame = self.plan(sql).await?;
        let schema = plain_schema(frame.schema().as_arrow());
        let ticket = TicketStatementQuery {
            statement_handle: sql.as_bytes().to_vec().into(),
        };
        info(ticket.as_any().encode_to_vec(), &schema, descriptor)
    }
}

#[tonic::async_trait]
impl FlightSqlService for Service {
    type FlightService = Service;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Handshakes>, Status> {
        self.authorize(&request)?;
        let token = new_token()?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(token.clone());
        }
        let answer = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into_bytes().into(),
        };
        let mut response: Response<Handshakes> =
            Response::new(Box::pin(futures::stream::iter([Ok(answer)])));
        let bearer = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|e| Status::internal(e.to_string()))?;
        response.metadata_mut().insert("authorization", bearer);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let info = self
            .statement_info(&query.query, request.into_inner())
            .await?;
        Ok(Response::new(info))
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let sql = String::from_utf8(query.prepared_statement_handle.to_vec())
            .map_err(|_| Status::invalid_argument("not a statement handle of this server"))?;
        let info = self.statement_info(&sql, request.into_inner()).await?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let sql = std::str::from_utf8(&ticket.statement_handle)
            .map_err(|_| Status::invalid_argument("not a ticket of this server"))?;
        let frame = self.plan(sql).await?;
        let schema = plain_schema(frame.schema().as_arrow());
        let target = schema.clone();
        let batches = frame
            .execute_stream()
            .await
            .map_err(status)?
            .map_err(|e| FlightError::Tonic(Box::new(status(e))))
            .and_then(move |batch| {
                let target = target.clone();
                async move { plain_batch(batch, &target) }
            });
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(Status::from);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.authorize(&request)?;
        let frame = self.plan(&query.query).await?;
        let schema = plain_schema(frame.schema().as_arrow());
        let IpcMessage(dataset_schema) = SchemaAsIpc::new(&schema, &IpcWriteOptions::default())
            .try_into()
            .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
        let IpcMessage(parameter_schema) =
            SchemaAsIpc::new(&Schema::empty(), &IpcWriteOptions::default())
                .try_into()
                .map_err(|e: datafusion::arrow::error::ArrowError| {
                    Status::internal(e.to_string())
                })?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: query.query.into_bytes().into(),
            dataset_schema,
            parameter_schema,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        // Handles are the statement's text: nothing to free.
        self.authorize(&request)
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = query.as_any().encode_to_vec();
        self.listing_info(request, ticket, query.into_builder().schema())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let mut builder = query.into_builder();
        for catalog in self.ctx.catalog_names() {
            builder.append(catalog);
        }
        Ok(Response::new(one_batch(builder.schema(), builder.build())))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = query.as_any().encode_to_vec();
        self.listing_info(request, ticket, query.into_builder().schema())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let mut builder = query.into_builder();
        for catalog in self.ctx.catalog_names() {
            if let Some(provider) = self.ctx.catalog(&catalog) {
                for schema in provider.schema_names() {
                    builder.append(&catalog, schema);
                }
            }
        }
        Ok(Response::new(one_batch(builder.schema(), builder.build())))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = query.as_any().encode_to_vec();
        self.listing_info(request, ticket, query.into_builder().schema())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let mut builder = query.into_builder();
        for catalog in self.ctx.catalog_names() {
            let Some(provider) = self.ctx.catalog(&catalog) else {
                continue;
            };
            for schema_name in provider.schema_names() {
                let Some(schema) = provider.schema(&schema_name) else {
                    continue;
                };
                for table in schema.table_names() {
                    let Ok(Some(found)) = schema.table(&table).await else {
                        continue;
                    };
                    let kind = match found.table_type() {
                        datafusion::datasource::TableType::View => "VIEW",
                        _ => "TABLE",
                    };
                    builder
                        .append(&catalog, &schema_name, &table, kind, &found.schema())
                        .map_err(Status::from)?;
                }
            }
        }
        Ok(Response::new(one_batch(builder.schema(), builder.build())))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = query.as_any().encode_to_vec();
        self.listing_info(request, ticket, query.into_builder(sql_info()?).schema())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let builder = query.into_builder(sql_info()?);
        Ok(Response::new(one_batch(builder.schema(), builder.build())))
    }

    async fn do_get_fallback(
        &self,
        request: Request<Ticket>,
        message: Any,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        Err(Status::unimplemented(format!(
            "{} is not served by ensemble",
            message.type_url
        )))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, ArrayRef, Int64Array, StringViewArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    use super::{plain_batch, plain_schema};

    #[test]
    fn view_types_reach_clients_as_plain_types() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("city", DataType::Utf8View, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringViewArray::from(vec![Some("Saint-Étienne"), None])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let plain = plain_schema(&schema);
        assert_eq!(plain.field(0).data_type(), &DataType::Int64);
        assert_eq!(plain.field(1).data_type(), &DataType::Utf8);
        let converted = plain_batch(batch, &plain).unwrap();
        assert_eq!(converted.schema(), plain);
        let cities = converted.column(1).as_any();
        let cities = cities
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .unwrap();
        assert_eq!(cities.value(0), "Saint-Étienne");
        assert!(cities.is_null(1));
    }
}
