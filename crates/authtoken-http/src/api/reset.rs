//! Password reset by email (mounted only with `password_reset_enabled`): the request, setting the password with the
//! mailed link, and the built-in form the link opens when `password_reset_url` is unset.

use authtoken_core::AuthService;
use authtoken_core::service::{FieldValue, ResetError, ResetRequestError};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Html, Json};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, Union};

use crate::body::{Fields, FieldsBody};
use crate::error::{
    BodyError, ErrorBody, detail_body, impl_from_body_error, impl_from_failure, impl_from_store_error,
    impl_from_throttled,
};

#[derive(Tags)]
enum Tag {
    /// Setting a new password with a link mailed to the account's address.
    PasswordReset,
}

/// The reset request and the reset itself.
pub(crate) struct ResetApi;

/// The built-in form a reset link opens.
pub(crate) struct ResetFormApi;

const INVALID_LINK: &str = "Invalid or expired link.";
const UNREADABLE: &str = "The form could not be read. Please try again.";

/// A reset request.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct ResetRequestFields {
    /// The account's address; surrounding white space is trimmed.
    email: String,
}

/// A new password set with a reset link.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct ResetFields {
    /// The token of the mailed link.
    #[oai(write_only)]
    token: String,
    /// The new password: at least `password_min_length` (default 8) and at most 128 characters; never trimmed.
    #[oai(write_only)]
    new_password: String,
}

/// The new password of the built-in form.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct ResetFormFields {
    /// The new password: at least `password_min_length` (default 8) and at most 128 characters; never trimmed.
    #[oai(write_only)]
    new_password: String,
}

/// `{"success":true}`.
#[derive(Object, Debug)]
struct Success {
    success: bool,
}

/// Field errors of a reset request or a reset.
#[derive(Object, Debug, Default)]
struct ResetErrors {
    #[oai(skip_serializing_if_is_none)]
    email: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    token: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    new_password: Option<Vec<String>>,
}

/// What a 400 of a reset request or a reset holds.
#[derive(Union, Debug)]
enum ResetProblem {
    /// The fields that are wrong, each with its messages.
    Fields(ResetErrors),
    /// A body that cannot be parsed.
    Malformed(ErrorBody),
}

/// A reset request that was taken.
#[derive(ApiResponse, Debug)]
enum RequestResponse {
    /// `{"success":true}`, whether or not an account has the address: when one has, a link is mailed to it.
    #[oai(status = 202, content_type = "application/json")]
    Accepted(Json<Success>),
}

/// A password set with a link.
#[derive(ApiResponse, Debug)]
enum ResetResponse {
    /// `{"success":true}`: the password is set, and every session and reset link of the account is revoked.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Success>),
}

/// Why a reset request or a reset did nothing.
#[derive(ApiResponse, Debug)]
enum ResetFailure {
    /// A field that breaks a rule (`{"email":[…]}`, `{"token":["Invalid or expired link."]}`,
    /// `{"new_password":[…]}`), or a body that cannot be parsed (`{"detail":…}`).
    #[oai(status = 400, content_type = "application/json")]
    Invalid(Json<ResetProblem>),
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

impl_from_failure!(ResetFailure);
impl_from_throttled!(ResetFailure);
impl_from_body_error!(ResetFailure, |body: Json<ErrorBody>| ResetFailure::Invalid(Json(ResetProblem::Malformed(
    body.0
))));

impl ResetFailure {
    fn fields(errors: ResetErrors) -> Self {
        Self::Invalid(Json(ResetProblem::Fields(errors)))
    }
}

impl From<ResetError> for ResetFailure {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidLink => {
                Self::fields(ResetErrors { token: Some(vec![INVALID_LINK.into()]), ..Default::default() })
            }
            ResetError::InvalidPassword(message) => {
                Self::fields(ResetErrors { new_password: Some(vec![message.into()]), ..Default::default() })
            }
            ResetError::Failed(failure) => failure.into(),
        }
    }
}

#[OpenApi(tag = "Tag::PasswordReset")]
impl ResetApi {
    /// Request a password reset
    ///
    /// Mails a link that sets a new password to the address, through the outbox, when an active account has it. The
    /// answer is the same whether or not one has, and so is the work behind it. A newer request replaces the older
    /// links. The mail is in the language of `Accept-Language` when one is configured.
    #[oai(path = "/password/reset/", method = "post", operation_id = "password_reset")]
    async fn request(
        &self,
        service: Data<&AuthService>,
        request: &poem::Request,
        body: FieldsBody<ResetRequestFields>,
    ) -> Result<RequestResponse, ResetFailure> {
        let mut fields: Fields = body.fields?;
        let languages = crate::api::registration::languages(request);
        let client = crate::client_ip::client_info(request);
        match service.request_password_reset(fields.take("email"), &languages, &client).await {
            Ok(()) => Ok(RequestResponse::Accepted(Json(Success { success: true }))),
            Err(ResetRequestError::InvalidEmail(message)) => {
                Err(ResetFailure::fields(ResetErrors { email: Some(vec![message.into()]), ..Default::default() }))
            }
            // Not reached: the route exists only while reset is on.
            Err(ResetRequestError::Disabled) => Err(ResetError::InvalidLink.into()),
            Err(ResetRequestError::Throttled(throttled)) => Err(throttled.into()),
            Err(ResetRequestError::Failed(failure)) => Err(failure.into()),
        }
    }

    /// Set a new password with a reset link
    ///
    /// Sets the password of the link's account: every session and every reset link of the account are revoked.
    /// A new password that breaks the rules leaves the link usable.
    #[oai(path = "/password/reset/confirm/", method = "post", operation_id = "password_reset_confirm")]
    async fn reset(
        &self,
        service: Data<&AuthService>,
        request: &poem::Request,
        body: FieldsBody<ResetFields>,
    ) -> Result<ResetResponse, ResetFailure> {
        let mut fields: Fields = body.fields?;
        let FieldValue::Text(token) = fields.take("token") else {
            return Err(ResetError::InvalidLink.into());
        };
        let client = crate::client_ip::client_info(request);
        service.reset_password(&token, fields.take("new_password"), &client).await?;
        Ok(ResetResponse::Ok(Json(Success { success: true })))
    }
}

/// The built-in form, or what became of it.
#[derive(ApiResponse, Debug)]
enum PageResponse {
    /// A page: the form (its address holds the link, so no cache keeps it, and its policy lets it do nothing but
    /// post its form back), or, after the form was sent, that the password is set.
    #[oai(status = 200)]
    Page(Html<String>, #[oai(header = "Cache-Control")] String, #[oai(header = "Content-Security-Policy")] String),
    /// A page that says the link is invalid or expired, or, with the form again, what is wrong with the new password
    /// (or that the form could not be read).
    #[oai(status = 400)]
    Invalid(Html<String>, #[oai(header = "Cache-Control")] String, #[oai(header = "Content-Security-Policy")] String),
}

/// Why the form could not be shown or sent.
#[derive(ApiResponse, Debug)]
enum PageFailure {
    /// A body over 64 KiB.
    #[oai(status = 413, content_type = "application/json")]
    PayloadTooLarge(Json<ErrorBody>),
    /// A content type other than JSON, form or multipart.
    #[oai(status = 415, content_type = "application/json")]
    UnsupportedMediaType(Json<ErrorBody>),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
    /// An unexpected failure; its cause is in the service's log.
    #[oai(status = 500, content_type = "application/json")]
    Internal(Json<ErrorBody>),
}

impl_from_failure!(PageFailure);
impl_from_store_error!(PageFailure);

#[OpenApi(tag = "Tag::PasswordReset")]
impl ResetFormApi {
    /// Show the reset form
    ///
    /// The page a mailed reset link opens when `password_reset_url` is unset: a form for the new password, which
    /// posts it back to the same address. It never uses the link.
    #[oai(path = "/password/reset/confirm/:token/", method = "get", operation_id = "password_reset_form")]
    async fn form(&self, service: Data<&AuthService>, token: Path<String>) -> Result<PageResponse, PageFailure> {
        match service.check_reset_link(&token.0).await {
            Ok(()) => Ok(page(PageResponse::Page, &form_page(None))),
            Err(e) => page_for(e),
        }
    }

    /// Send the reset form
    ///
    /// Sets the new password the form posts, as `POST {prefix}/password/reset/confirm/` does, and answers a page.
    #[oai(path = "/password/reset/confirm/:token/", method = "post", operation_id = "password_reset_form_post")]
    async fn send(
        &self,
        service: Data<&AuthService>,
        request: &poem::Request,
        token: Path<String>,
        body: FieldsBody<ResetFormFields>,
    ) -> Result<PageResponse, PageFailure> {
        let mut fields: Fields = match body.fields {
            Ok(fields) => fields,
            Err(e @ (BodyError::PayloadTooLarge | BodyError::UnsupportedMediaType(_))) => {
                let body = detail_body(&e);
                return Err(match e {
                    BodyError::PayloadTooLarge => PageFailure::PayloadTooLarge(body),
                    _ => PageFailure::UnsupportedMediaType(body),
                });
            }
            // A browser sends the form as it is; a body that cannot be read gets the form again.
            Err(_) => return Ok(page(PageResponse::Invalid, &form_page(Some(UNREADABLE)))),
        };
        match service
            .reset_password(&token.0, fields.take("new_password"), &crate::client_ip::client_info(request))
            .await
        {
            Ok(()) => Ok(page(PageResponse::Page, DONE_PAGE)),
            Err(e) => page_for(e),
        }
    }
}

/// The page for a link that did not work.
fn page_for(e: ResetError) -> Result<PageResponse, PageFailure> {
    match e {
        ResetError::InvalidLink => Ok(page(PageResponse::Invalid, INVALID_PAGE)),
        ResetError::InvalidPassword(message) => Ok(page(PageResponse::Invalid, &form_page(Some(message)))),
        ResetError::Failed(failure) => Err(failure.into()),
    }
}

/// A page answer with the headers every page that carries a token sends.
fn page(variant: fn(Html<String>, String, String) -> PageResponse, html: &str) -> PageResponse {
    variant(Html(html.to_owned()), "no-store".to_owned(), PAGE_POLICY.to_owned())
}

/// The pages' content security policy: no script, no style from elsewhere, no framing; the one form posts back to
/// this site.
const PAGE_POLICY: &str = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The form, with the message of what was wrong with the last new password, if any (a message of this crate's own,
/// never text from the request).
fn form_page(problem: Option<&'static str>) -> String {
    let problem = problem.map(|message| format!("<p role=\"alert\">{message}</p>\n")).unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">
<title>Set a new password</title></head>
<body>
<h1>Set a new password</h1>
{problem}<form method="post">
<p><label>New password <input type="password" name="new_password" autocomplete="new-password" required></label></p>
<button type="submit">Set password</button>
</form>
</body>
</html>
"#
    )
}

const DONE_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Password set</title></head>
<body><h1>Password set</h1><p>Your new password is set, and every session of your account has ended. Log in with the new password.</p></body>
</html>
"#;

const INVALID_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Invalid link</title></head>
<body><h1>Invalid or expired link</h1><p>This link has been used, has expired, or was replaced by a newer one. Ask for a new link.</p></body>
</html>
"#;
