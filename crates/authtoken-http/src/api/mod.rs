//! The operations of the API, grouped as the routes are mounted: sessions always, registration when enabled,
//! and health at the root of the site.

mod confirm;
mod health;
mod registration;
mod session;

pub(crate) use confirm::{ConfirmApi, ScannerSafeConfirmApi};
pub(crate) use health::HealthApi;
pub(crate) use registration::RegistrationApi;
pub(crate) use session::SessionApi;
