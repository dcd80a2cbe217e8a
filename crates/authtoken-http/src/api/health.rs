//! Liveness and readiness: `/healthz` and `/readyz`, at the root of the site rather than under the prefix.

use authtoken_core::AuthService;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};

use crate::error::{ErrorBody, impl_from_store_error};

#[derive(Tags)]
enum Tag {
    /// Whether the service can answer, for load balancers and orchestrators.
    Health,
}

/// Liveness and readiness.
pub(crate) struct HealthApi;

/// The one state a health answer reports.
#[derive(Enum, Debug)]
#[oai(rename = "HealthState", rename_all = "lowercase")]
enum State {
    Ok,
}

/// The service can answer.
#[derive(Object, Debug)]
#[oai(rename = "Health")]
struct Status {
    status: State,
}

/// The service can answer.
#[derive(ApiResponse, Debug)]
enum HealthResponse {
    /// `{"status":"ok"}`.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Status>),
}

impl HealthResponse {
    fn ok() -> Self {
        Self::Ok(Json(Status { status: State::Ok }))
    }
}

/// Why the service is not ready.
#[derive(ApiResponse, Debug)]
enum ReadyFailure {
    /// The database does not answer.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl_from_store_error!(ReadyFailure);

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// The process answers HTTP; nothing else is checked.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::ok()
    }

    /// Readiness
    ///
    /// The process answers and so does its database.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, service: Data<&AuthService>) -> Result<HealthResponse, ReadyFailure> {
        service.ready().await?;
        Ok(HealthResponse::ok())
    }
}
