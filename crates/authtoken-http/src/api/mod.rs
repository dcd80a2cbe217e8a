//! The operations of the API, grouped as the routes are mounted: sessions always, registration when enabled.

mod confirm;
mod registration;
mod session;

use poem::Response;
use poem::http::StatusCode;

use crate::error::{Outage, detail_response, json_response};

pub(crate) use confirm::{ConfirmApi, ScannerSafeConfirmApi};
pub(crate) use registration::RegistrationApi;
pub(crate) use session::SessionApi;

/// Readiness: the database answers; 503 with a JSON `detail` when it does not.
#[poem::handler]
pub(crate) async fn readyz(service: poem::web::Data<&authtoken_core::AuthService>) -> Response {
    match service.ready().await {
        Ok(()) => json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        Err(failure) => {
            let outage = Outage::from(failure);
            detail_response(outage.status(), &outage)
        }
    }
}

/// Liveness: the process answers HTTP.
#[poem::handler]
pub(crate) fn healthz() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}
