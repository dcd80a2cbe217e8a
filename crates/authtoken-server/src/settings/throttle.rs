//! The settings of the throttles: one limit per bucket, the master switch, and where the counts are kept.

use anyhow::bail;
use authtoken_core::throttle::Limits;
use authtoken_sql::Backend;

use super::{Settings, rate};

/// Where the throttles keep their counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleStoreKind {
    /// In the server's memory: each server counts on its own.
    Memory,
    /// In the database: every server on one database counts together.
    Database,
}

/// The throttles, when `throttle_enabled` is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttles {
    /// The limits; each may be off.
    pub limits: Limits,
    /// Where the counts are kept.
    pub store: ThrottleStoreKind,
}

impl Settings {
    /// Every limit is checked even when the throttles are off, so that turning them on reveals no mistake.
    pub(super) fn throttles(&self, backend: Backend) -> anyhow::Result<Option<Throttles>> {
        let limits = Limits {
            login_ip: rate("throttle_login_ip", &self.throttle_login_ip)?,
            login_failures_ip_account: rate(
                "throttle_login_failures_ip_account",
                &self.throttle_login_failures_ip_account,
            )?,
            login_failures_account: rate("throttle_login_failures_account", &self.throttle_login_failures_account)?,
            register_ip: rate("throttle_register_ip", &self.throttle_register_ip)?,
            mail_ip: rate("throttle_mail_ip", &self.throttle_mail_ip)?,
            mail_address: rate("throttle_mail_address", &self.throttle_mail_address)?,
        };
        let store = match self.throttle_store.as_deref().map(str::trim) {
            None | Some("") => match backend {
                Backend::Postgres => ThrottleStoreKind::Database,
                Backend::Sqlite => ThrottleStoreKind::Memory,
            },
            Some("memory") => ThrottleStoreKind::Memory,
            Some("database") => ThrottleStoreKind::Database,
            Some(other) => bail!("invalid setting `throttle_store`: `{other}` is neither `memory` nor `database`"),
        };
        Ok(self.throttle_enabled.then_some(Throttles { limits, store }))
    }
}
