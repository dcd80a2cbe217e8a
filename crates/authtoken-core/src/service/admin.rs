//! Use cases for an operator: creating a user with registration's rules, without registration's confirmation mail.

use super::register::RegisterError;
use super::{AuthService, FieldValue};
use crate::event::{AuditEvent, EventKind};
use crate::user::{Password, User};

/// A user that an operator creates.
#[derive(Clone, Debug)]
pub struct AddUser {
    /// The username, checked with registration's rules (trimmed, as registration trims it).
    pub username: String,
    /// The user's address, checked with registration's rules; the operator vouches for it, so it is stored
    /// confirmed and no confirmation mail is sent.
    pub email: Option<String>,
    /// The password, checked with registration's rules.
    pub password: Password,
}

impl AuthService {
    /// Creates an active user for an operator, with the rules and messages of registration.
    ///
    /// An address is stored confirmed: the operator vouches for it, so no confirmation mail is queued, and a login
    /// that needs a confirmed address works at once. An address is required where registration requires one (email
    /// confirmation is on) and where a login needs a confirmed address, since the user could never log in without.
    /// Registration itself may be disabled: this is the operator's way in. The audit trail gets an
    /// `operator_created_user` event in the transaction that creates the user.
    pub async fn add_user(&self, user: AddUser) -> Result<User, RegisterError> {
        let email = match user.email {
            Some(email) => Some(FieldValue::Text(email)),
            None if self.confirmation.is_some() || self.config.require_confirmed_email_for_login => {
                Some(FieldValue::Missing)
            }
            None => None,
        };
        let checked = self.check_new_user(FieldValue::Text(user.username), Ok(user.password), email).await?;
        let email_confirmed = checked.email.is_some();
        let new_user = self.new_user(checked, email_confirmed).await?;
        let event = AuditEvent::by_operator(EventKind::OperatorCreatedUser, new_user.joined_at, None, None);
        let created = self.users.create(&new_user, &event).await;
        self.created(created, &new_user.username).await
    }
}
