//! The caller's account: changing the password and deleting the account.

use authtoken_core::AuthService;
use authtoken_core::service::{ChangePasswordError, FieldValue};
use authtoken_core::user::Password;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, Union};

use super::sessions::{PasswordFields, ReauthFailure, reentered};
use crate::body::{Fields, FieldsBody};
use crate::error::{ErrorBody, impl_from_body_error, impl_from_failure, impl_from_throttled};
use crate::security::TokenAuth;

#[derive(Tags)]
enum Tag {
    /// Changing one's password and deleting one's account.
    Account,
}

/// The account routes of the authenticated user.
pub(crate) struct AccountApi;

const WRONG_OLD_PASSWORD: &str = "Your old password was entered incorrectly. Please enter it again.";
const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";

/// A password change.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct ChangeFields {
    /// The password in use now, as typed.
    #[oai(write_only)]
    current_password: String,
    /// The new password: at least `password_min_length` (default 8) and at most 128 characters; never trimmed.
    #[oai(write_only)]
    new_password: String,
    /// Whether the caller's other sessions are revoked; `true` when left out. Also `"true"`, `"false"`, `"1"`,
    /// `"0"`, `"yes"`, `"no"`, `"on"`, `"off"` in a form.
    revoke_other_sessions: Option<bool>,
}

/// A changed password.
#[derive(Object, Debug)]
struct Changed {
    success: bool,
    /// How many other sessions were revoked.
    revoked: u64,
}

/// Field errors of a password change, each field with its messages.
#[derive(Object, Debug, Default)]
struct ChangeErrors {
    #[oai(skip_serializing_if_is_none)]
    current_password: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    new_password: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    revoke_other_sessions: Option<Vec<String>>,
}

/// What a 400 of a password change holds.
#[derive(Union, Debug)]
enum ChangeProblem {
    /// The fields that are wrong, each with its messages.
    Fields(ChangeErrors),
    /// A body that cannot be parsed.
    Malformed(ErrorBody),
}

/// A password change that worked.
#[derive(ApiResponse, Debug)]
enum ChangeResponse {
    /// `{"success":true,"revoked":N}`: the new password is in force; this request's session stays valid.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Changed>),
}

/// Why the password was not changed.
#[derive(ApiResponse, Debug)]
enum ChangeFailure {
    /// A wrong current password, a new password that breaks the rules, or a body that cannot be parsed.
    #[oai(status = 400, content_type = "application/json")]
    Invalid(Json<ChangeProblem>),
    /// Not authenticated, as `TokenAuth` answers it, before the body is looked at.
    #[allow(dead_code, reason = "TokenAuth answers the 401 before the handler runs; the variant documents it")]
    #[oai(status = 401, content_type = "application/json")]
    Unauthenticated(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// A body over 64 KiB.
    #[oai(status = 413, content_type = "application/json")]
    PayloadTooLarge(Json<ErrorBody>),
    /// A content type other than JSON, form or multipart.
    #[oai(status = 415, content_type = "application/json")]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Too many attempts: `{"detail":"Request was throttled. Expected available in N seconds."}`, and
    /// `Retry-After: N`.
    #[oai(status = 429, content_type = "application/json")]
    Throttled(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
    /// An unexpected failure; its cause is in the service's log.
    #[oai(status = 500, content_type = "application/json")]
    Internal(Json<ErrorBody>),
}

impl_from_failure!(ChangeFailure);
impl_from_throttled!(ChangeFailure);
impl_from_body_error!(ChangeFailure, |body: Json<ErrorBody>| ChangeFailure::Invalid(Json(ChangeProblem::Malformed(
    body.0
))));

impl ChangeFailure {
    fn fields(errors: ChangeErrors) -> Self {
        Self::Invalid(Json(ChangeProblem::Fields(errors)))
    }
}

impl From<ChangePasswordError> for ChangeFailure {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::WrongPassword => Self::fields(ChangeErrors {
                current_password: Some(vec![WRONG_OLD_PASSWORD.into()]),
                ..Default::default()
            }),
            ChangePasswordError::Invalid(message) => {
                Self::fields(ChangeErrors { new_password: Some(vec![message.into()]), ..Default::default() })
            }
            ChangePasswordError::Throttled(throttled) => throttled.into(),
            ChangePasswordError::Failed(failure) => failure.into(),
        }
    }
}

/// A deleted account.
#[derive(ApiResponse, Debug)]
enum DeleteResponse {
    /// The account is gone, with every session, link and pending mail of it.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "Tag::Account")]
impl AccountApi {
    /// Change my password
    ///
    /// Sets a new password once the current one is re-entered. The caller's other sessions are revoked unless
    /// `revoke_other_sessions` is `false`; this request's session stays valid.
    #[oai(path = "/password/change/", method = "post", operation_id = "password_change")]
    async fn change(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        request: &poem::Request,
        body: FieldsBody<ChangeFields>,
    ) -> Result<ChangeResponse, ChangeFailure> {
        let mut fields: Fields = body.fields?;
        let revoke_others = match boolean(fields.take("revoke_other_sessions"), true) {
            Some(revoke) => revoke,
            None => {
                let errors =
                    ChangeErrors { revoke_other_sessions: Some(vec![NOT_A_BOOLEAN.into()]), ..Default::default() };
                return Err(ChangeFailure::fields(errors));
            }
        };
        let FieldValue::Text(current) = fields.take("current_password") else {
            return Err(ChangePasswordError::WrongPassword.into());
        };
        let current = Password::new(current);
        let new = fields.take("new_password");
        let client = crate::client_ip::client_info(request);
        let revoked = service.change_password(&auth.0, &current, new, revoke_others, &client).await?;
        Ok(ChangeResponse::Ok(Json(Changed { success: true, revoked })))
    }

    /// Delete my account
    ///
    /// Deletes the caller's account once the password is re-entered: the user, every session, link and pending mail.
    #[oai(path = "/me/delete/", method = "post", operation_id = "delete_account")]
    async fn delete(
        &self,
        service: Data<&AuthService>,
        auth: TokenAuth,
        request: &poem::Request,
        body: FieldsBody<PasswordFields>,
    ) -> Result<DeleteResponse, ReauthFailure> {
        let password = reentered(body)?;
        service.delete_account(&auth.0, &password, &crate::client_ip::client_info(request)).await?;
        Ok(DeleteResponse::NoContent)
    }
}

/// A boolean field as Django REST framework's `BooleanField` reads it; `default` when it is missing, `None` when it
/// is not a boolean.
fn boolean(value: FieldValue, default: bool) -> Option<bool> {
    match value {
        FieldValue::Missing => Some(default),
        FieldValue::Bool(value) => Some(value),
        FieldValue::Text(text) => match text.as_str() {
            "true" | "True" | "TRUE" | "t" | "T" | "yes" | "Yes" | "YES" | "y" | "Y" | "on" | "On" | "ON" | "1" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "f" | "F" | "no" | "No" | "NO" | "n" | "N" | "off" | "Off" | "OFF" | "0" => {
                Some(false)
            }
            _ => None,
        },
        FieldValue::Null | FieldValue::NotString => None,
    }
}
