//! Logout: revoke the one session that authenticated the request.

use super::AuthService;
use crate::error::StoreError;
use crate::service::Authenticated;

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
    /// A session that vanished since it authenticated (a concurrent logout) counts as logged out.
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), LogoutError> {
        self.tokens.delete(&auth.session.digest).await?;
        Ok(())
    }
}
