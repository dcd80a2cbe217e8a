//! Logout: revoke the one session that authenticated the request.

use super::AuthService;
use super::events::of_request;
use crate::error::StoreError;
use crate::event::EventKind;
use crate::service::Authenticated;
use crate::session::ClientInfo;

/// Why a session was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum LogoutError {
    /// The store failed, so the session may still be valid.
    #[error(transparent)]
    Failed(#[from] StoreError),
}

impl AuthService {
    /// Deletes the presented session only; the user's other sessions keep working.
    ///
    /// A session that vanished since it authenticated (a concurrent logout) counts as logged out. The audit trail
    /// gets a `logout` event from `client` in the transaction that revokes the session (none for a vanished one).
    pub async fn logout(&self, auth: &Authenticated, client: &ClientInfo) -> Result<(), LogoutError> {
        let event = of_request(EventKind::Logout, self.clock.now(), auth, client);
        self.tokens.revoke(auth.user.id, &auth.session.id, &event).await?;
        Ok(())
    }
}
