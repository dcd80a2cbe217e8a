//! The operations of the API, grouped as the routes are mounted: login and logout (`session.rs`) the session
//! inventory (`sessions.rs`), the account (`account.rs`) and its audit trail (`events.rs`) always, registration when
//! enabled, password reset (`reset.rs`) when enabled, and health at the root of the site.

mod account;
mod confirm;
mod events;
mod health;
mod registration;
mod reset;
mod session;
mod sessions;

pub(crate) use account::AccountApi;
pub(crate) use confirm::{ConfirmApi, ConfirmedPageApi, ScannerSafeConfirmApi};
pub(crate) use events::EventsApi;
pub(crate) use health::HealthApi;
pub(crate) use registration::RegistrationApi;
pub(crate) use reset::{ResetApi, ResetFormApi};
pub(crate) use session::SessionApi;
pub(crate) use sessions::SessionsApi;
