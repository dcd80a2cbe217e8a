//! The confirmation link: `GET {prefix}/register/confirm/{token}/` (mounted only with registration and confirmation on).

use authtoken_core::AuthService;
use authtoken_core::service::ConfirmError;
use poem::http::Method;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Html, Json};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::config::HttpConfig;
use crate::error::{ErrorBody, RouteError, detail_body, impl_from_store_error};

#[derive(Tags)]
enum Tag {
    /// Creating accounts.
    Registration,
}

/// The confirmation link.
pub(crate) struct ConfirmApi {
    redirect: String,
    invalid_redirect: Option<String>,
    via_post: bool,
}

impl ConfirmApi {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Self {
            redirect: config.confirm_redirect.clone(),
            invalid_redirect: config.confirm_invalid_redirect.clone(),
            via_post: config.confirm_via_post,
        }
    }
}

#[derive(ApiResponse, Debug)]
enum ConfirmResponse {
    /// Confirmed (or, for `HEAD`, would be): to `registration_confirm_redirect_path`.
    /// Also an invalid link when `registration_confirm_invalid_redirect_path` is set.
    #[oai(status = 302)]
    Redirect(#[oai(header = "Location")] String),
    /// With `confirm_via_post`: a page whose button confirms by `POST` to the same address. Its address holds the
    /// link, so no cache keeps it, and its policy lets it do nothing but post its form back.
    #[oai(status = 200)]
    Page(Html<String>, #[oai(header = "Cache-Control")] String, #[oai(header = "Content-Security-Policy")] String),
    /// `invalid token!`: the link is malformed, unknown, expired, used, or was sent to an address the user no longer has.
    #[oai(status = 400)]
    Invalid(Html<String>),
}

/// Why a link could not be checked.
#[derive(ApiResponse, Debug)]
enum ConfirmFailure {
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl_from_store_error!(ConfirmFailure);

/// Why the button of the scanner-safe page did not confirm.
#[derive(ApiResponse, Debug)]
enum ConfirmPostFailure {
    /// The service does not run with `confirm_via_post`.
    #[oai(status = 405, content_type = "application/json")]
    MethodNotAllowed(Json<ErrorBody>),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl From<ConfirmFailure> for ConfirmPostFailure {
    fn from(e: ConfirmFailure) -> Self {
        match e {
            ConfirmFailure::Unavailable(body) => Self::Unavailable(body),
        }
    }
}

#[OpenApi(tag = "Tag::Registration")]
impl ConfirmApi {
    /// Confirm an email address
    ///
    /// The link mailed at registration. It confirms the address and redirects, unless the service runs with
    /// `confirm_via_post`: then it shows a page whose button confirms (so link scanners cannot).
    #[oai(path = "/register/confirm/:token/", method = "get", operation_id = "confirm")]
    async fn confirm(
        &self,
        service: Data<&AuthService>,
        token: Path<String>,
    ) -> Result<ConfirmResponse, ConfirmFailure> {
        if self.via_post {
            return self.answer(service.check_confirmation_link(&token.0).await, Some(PAGE));
        }
        self.answer(service.confirm_email(&token.0).await, None)
    }

    /// Check a confirmation link
    ///
    /// Answers as `GET` would, but never consumes the link.
    #[oai(path = "/register/confirm/:token/", method = "head", operation_id = "confirm_check")]
    async fn check(&self, service: Data<&AuthService>, token: Path<String>) -> Result<ConfirmResponse, ConfirmFailure> {
        let page = self.via_post.then_some(PAGE);
        self.answer(service.check_confirmation_link(&token.0).await, page)
    }

    /// Confirm an email address (scanner-safe mode)
    ///
    /// With `confirm_via_post`, the button of the confirmation page posts here; otherwise this answers 405.
    #[oai(path = "/register/confirm/:token/", method = "post", operation_id = "confirm_post")]
    async fn confirm_post(
        &self,
        service: Data<&AuthService>,
        token: Path<String>,
    ) -> Result<ConfirmResponse, ConfirmPostFailure> {
        if !self.via_post {
            return Err(ConfirmPostFailure::MethodNotAllowed(detail_body(RouteError::MethodNotAllowed(Method::POST))));
        }
        Ok(self.answer(service.confirm_email(&token.0).await, None)?)
    }
}

impl ConfirmApi {
    /// A valid link answers `page` when given, else the redirect; an invalid one the invalid redirect or 400.
    fn answer(&self, outcome: Result<(), ConfirmError>, page: Option<&str>) -> Result<ConfirmResponse, ConfirmFailure> {
        match outcome {
            Ok(()) => Ok(match page {
                Some(page) => {
                    ConfirmResponse::Page(Html(page.to_owned()), "no-store".to_owned(), PAGE_POLICY.to_owned())
                }
                None => ConfirmResponse::Redirect(self.redirect.clone()),
            }),
            Err(ConfirmError::Invalid) => Ok(match &self.invalid_redirect {
                Some(target) => ConfirmResponse::Redirect(target.clone()),
                None => ConfirmResponse::Invalid(Html("invalid token!".to_owned())),
            }),
            Err(ConfirmError::Failed(e)) => Err(e.into()),
        }
    }
}

/// The scanner-safe page's content security policy: no script, no style from elsewhere, no framing; its one form
/// posts back to this site.
const PAGE_POLICY: &str = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The scanner-safe page: its form posts to the address it was loaded from.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">
<title>Confirm your email address</title></head>
<body>
<form method="post"><p>Confirm your email address?</p><button type="submit">Confirm</button></form>
</body>
</html>
"#;
