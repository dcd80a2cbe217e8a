//! The operations of the API, grouped as the routes are mounted: sessions always, registration when enabled.

mod confirm;
mod registration;
mod session;

use poem::Response;
use poem::http::StatusCode;

pub(crate) use confirm::ConfirmApi;
pub(crate) use registration::RegistrationApi;
pub(crate) use session::SessionApi;

/// Liveness: the process answers HTTP.
#[poem::handler]
pub(crate) fn healthz() -> Response {
    crate::envelope::json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}
