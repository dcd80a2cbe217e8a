//! The confirmation link: `{prefix}/register/confirm/{token}/` (mounted only with registration and confirmation on).
//!
//! Two sets of operations, of which the service mounts one: by default `GET` confirms and redirects; in
//! scanner-safe mode (`confirm_via_post`) `GET` shows a page and only its button, a `POST`, confirms.

use authtoken_core::AuthService;
use authtoken_core::service::ConfirmError;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Html, Json};
use poem_openapi::{ApiResponse, OpenApi, Tags};

use crate::config::HttpConfig;
use crate::error::{ErrorBody, impl_from_store_error};

#[derive(Tags)]
enum Tag {
    /// Creating accounts.
    Registration,
}

/// The confirmation link, where `GET` confirms.
pub(crate) struct ConfirmApi {
    links: Links,
}

/// The confirmation link in scanner-safe mode, where `GET` shows a page whose button confirms.
pub(crate) struct ScannerSafeConfirmApi {
    links: Links,
}

/// Where a link redirects.
struct Links {
    redirect: String,
    invalid_redirect: Option<String>,
}

impl ConfirmApi {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Self { links: Links::new(config) }
    }
}

impl ScannerSafeConfirmApi {
    pub(crate) fn new(config: &HttpConfig) -> Self {
        Self { links: Links::new(config) }
    }
}

impl Links {
    fn new(config: &HttpConfig) -> Self {
        let redirect = config.confirm_redirect.clone().unwrap_or_else(|| format!("{}{CONFIRMED_PATH}", config.prefix));
        Self { redirect, invalid_redirect: config.confirm_invalid_redirect.clone() }
    }
}

/// Where the built-in page that says an address is confirmed lives, under the prefix.
const CONFIRMED_PATH: &str = "/register/confirmed/";

/// The built-in page a confirmed link lands on when `registration_confirm_redirect_path` is unset.
pub(crate) struct ConfirmedPageApi;

#[derive(ApiResponse, Debug)]
enum ConfirmedPage {
    /// The page. It holds nothing of the user, and may do nothing at all.
    #[oai(status = 200)]
    Page(Html<&'static str>, #[oai(header = "Content-Security-Policy")] String),
}

#[OpenApi(tag = "Tag::Registration")]
impl ConfirmedPageApi {
    /// The address is confirmed
    ///
    /// Where a confirmation link redirects when `registration_confirm_redirect_path` is unset: a page that says
    /// the address is confirmed.
    #[oai(path = "/register/confirmed/", method = "get", operation_id = "confirmed_page")]
    async fn confirmed(&self) -> ConfirmedPage {
        ConfirmedPage::Page(Html(CONFIRMED), CONFIRMED_POLICY.to_owned())
    }
}

/// The confirmed page's content security policy: nothing but its own text.
const CONFIRMED_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CONFIRMED: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Email address confirmed</title></head>
<body>
<p>Your email address is confirmed. You can close this page and log in.</p>
</body>
</html>
"#;

#[derive(ApiResponse, Debug)]
enum ConfirmResponse {
    /// Confirmed (or, for `HEAD`, would be): to `registration_confirm_redirect_path`.
    /// Also an invalid link when `registration_confirm_invalid_redirect_path` is set.
    #[oai(status = 302)]
    Redirect(#[oai(header = "Location")] String),
    /// `invalid token!`: the link is malformed, unknown, expired, used, or was sent to an address the user no longer has.
    /// Its address holds the link, so no cache keeps it.
    #[oai(status = 400)]
    Invalid(Html<String>, #[oai(header = "Cache-Control")] String),
}

#[derive(ApiResponse, Debug)]
enum PageResponse {
    /// A valid link: a page whose button confirms by `POST` to the same address. Its address holds the link, so no
    /// cache keeps it, and its policy lets it do nothing but post its form back.
    #[oai(status = 200)]
    Page(Html<String>, #[oai(header = "Cache-Control")] String, #[oai(header = "Content-Security-Policy")] String),
    /// An invalid link when `registration_confirm_invalid_redirect_path` is set: to that path.
    #[oai(status = 302)]
    Redirect(#[oai(header = "Location")] String),
    /// `invalid token!`: the link is malformed, unknown, expired, used, or was sent to an address the user no longer has.
    /// Its address holds the link, so no cache keeps it.
    #[oai(status = 400)]
    Invalid(Html<String>, #[oai(header = "Cache-Control")] String),
}

/// Why a link could not be checked.
#[derive(ApiResponse, Debug)]
enum ConfirmFailure {
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

impl_from_store_error!(ConfirmFailure);

#[OpenApi(tag = "Tag::Registration")]
impl ConfirmApi {
    /// Confirm an email address
    ///
    /// The link mailed at registration: it confirms the address and redirects.
    #[oai(path = "/register/confirm/:token/", method = "get", operation_id = "confirm")]
    async fn confirm(
        &self,
        service: Data<&AuthService>,
        token: Path<String>,
        request: &poem::Request,
    ) -> Result<ConfirmResponse, ConfirmFailure> {
        self.links.answer(service.confirm_email(&token.0, &crate::client_ip::client_info(request)).await)
    }

    /// Check a confirmation link
    ///
    /// Answers as `GET` would, but never consumes the link.
    #[oai(path = "/register/confirm/:token/", method = "head", operation_id = "confirm_check")]
    async fn check(&self, service: Data<&AuthService>, token: Path<String>) -> Result<ConfirmResponse, ConfirmFailure> {
        self.links.answer(service.check_confirmation_link(&token.0).await)
    }
}

#[OpenApi(tag = "Tag::Registration")]
impl ScannerSafeConfirmApi {
    /// Show the confirmation page
    ///
    /// The link mailed at registration, in scanner-safe mode: it shows a page whose button confirms, so that mail
    /// scanners that open links confirm nothing. It never consumes the link.
    #[oai(path = "/register/confirm/:token/", method = "get", operation_id = "confirm")]
    async fn page(&self, service: Data<&AuthService>, token: Path<String>) -> Result<PageResponse, ConfirmFailure> {
        self.links.page(service.check_confirmation_link(&token.0).await)
    }

    /// Check a confirmation link
    ///
    /// Answers as `GET` would, but never consumes the link.
    #[oai(path = "/register/confirm/:token/", method = "head", operation_id = "confirm_check")]
    async fn check(&self, service: Data<&AuthService>, token: Path<String>) -> Result<PageResponse, ConfirmFailure> {
        self.links.page(service.check_confirmation_link(&token.0).await)
    }

    /// Confirm an email address
    ///
    /// The button of the confirmation page posts here: it confirms the address and redirects.
    #[oai(path = "/register/confirm/:token/", method = "post", operation_id = "confirm_post")]
    async fn confirm(
        &self,
        service: Data<&AuthService>,
        token: Path<String>,
        request: &poem::Request,
    ) -> Result<ConfirmResponse, ConfirmFailure> {
        self.links.answer(service.confirm_email(&token.0, &crate::client_ip::client_info(request)).await)
    }
}

impl Links {
    /// A valid link redirects; an invalid one goes to the invalid redirect, or answers 400.
    fn answer(&self, outcome: Result<(), ConfirmError>) -> Result<ConfirmResponse, ConfirmFailure> {
        match outcome {
            Ok(()) => Ok(ConfirmResponse::Redirect(self.redirect.clone())),
            Err(ConfirmError::Invalid) => Ok(match &self.invalid_redirect {
                Some(target) => ConfirmResponse::Redirect(target.clone()),
                None => ConfirmResponse::Invalid(Html(INVALID.to_owned()), NO_STORE.to_owned()),
            }),
            Err(ConfirmError::Failed(e)) => Err(e.into()),
        }
    }

    /// A valid link shows the page; an invalid one goes to the invalid redirect, or answers 400.
    fn page(&self, outcome: Result<(), ConfirmError>) -> Result<PageResponse, ConfirmFailure> {
        match outcome {
            Ok(()) => Ok(PageResponse::Page(Html(PAGE.to_owned()), NO_STORE.to_owned(), PAGE_POLICY.to_owned())),
            Err(ConfirmError::Invalid) => Ok(match &self.invalid_redirect {
                Some(target) => PageResponse::Redirect(target.clone()),
                None => PageResponse::Invalid(Html(INVALID.to_owned()), NO_STORE.to_owned()),
            }),
            Err(ConfirmError::Failed(e)) => Err(e.into()),
        }
    }
}

/// Upstream's answer to a link that does not work.
const INVALID: &str = "invalid token!";

/// The `Cache-Control` of every page at a link's address.
const NO_STORE: &str = "no-store";

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
