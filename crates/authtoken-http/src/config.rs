//! Settings of the HTTP layer: where the routes live, whether registration exists, what a user looks like.

use crate::client_ip::TrustedProxies;
use crate::cors::AllowedOrigins;

/// How the HTTP layer is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// Mount point of the auth routes, such as `/auth` (see [`parse_prefix`]).
    pub prefix: String,
    /// Whether `POST {prefix}/register/` exists; when false it answers 404.
    pub registration_enabled: bool,
    /// The user fields returned with a login (upstream's `USER_SERIALIZER`); `None` returns the token alone.
    pub user_fields: Option<Vec<UserField>>,
    /// Where a confirmation link redirects when it worked (see [`parse_redirect`]); `None` redirects to the
    /// built-in page at `{prefix}/register/confirmed/`, which says the address is confirmed.
    pub confirm_redirect: Option<String>,
    /// Where an invalid confirmation link redirects; `None` answers 400 `invalid token!`.
    pub confirm_invalid_redirect: Option<String>,
    /// Scanner-safe mode: the link shows a page, and only its button (a `POST`) confirms.
    pub confirm_via_post: bool,
    /// Whether `/openapi.json` and the Swagger UI at `/docs` are served; when false they answer 404.
    pub docs_enabled: bool,
    /// Whether a mailed reset link opens the built-in form at `{prefix}/password/reset/confirm/{token}/` (true when
    /// `password_reset_url` is unset); only with password reset on.
    pub password_reset_form: bool,
    /// The proxies whose `X-Forwarded-For` or `Forwarded` names the client whose IP address a login records;
    /// [`TrustedProxies::none`] records the connection's peer and ignores those headers.
    pub trusted_proxies: TrustedProxies,
    /// The origins whose pages may call the API from a browser (`cors_allowed_origins`);
    /// [`AllowedOrigins::none`] sends no CORS header at all.
    pub cors_allowed_origins: AllowedOrigins,
}

/// A field of a user that responses can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserField {
    /// The user's numeric id, shown as `id`.
    Id,
    /// The name as registered, shown as `username`.
    Username,
    /// The user's address, shown as `email`; `null` when the user has none.
    Email,
    /// Whether the address is confirmed, shown as `email_confirmed`.
    EmailConfirmed,
    /// Whether the user may log in, shown as `is_active`.
    IsActive,
    /// When the user registered, shown as `date_joined` in RFC 3339 (UTC).
    DateJoined,
    /// When the user last logged in, shown as `last_login` in RFC 3339 (UTC); `null` before the first login.
    LastLogin,
}

impl UserField {
    const ALL: [(&'static str, UserField); 7] = [
        ("id", Self::Id),
        ("username", Self::Username),
        ("email", Self::Email),
        ("email_confirmed", Self::EmailConfirmed),
        ("is_active", Self::IsActive),
        ("date_joined", Self::DateJoined),
        ("last_login", Self::LastLogin),
    ];
}

/// Parses a comma list such as `id,username` into user fields.
pub fn parse_user_fields(text: &str) -> Result<Vec<UserField>, String> {
    let fields = text
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            UserField::ALL.iter().find(|(known, _)| *known == name).map(|(_, field)| *field).ok_or_else(|| {
                let known: Vec<_> = UserField::ALL.iter().map(|(known, _)| *known).collect();
                format!("unknown user field `{name}`; known fields: {}", known.join(", "))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if fields.is_empty() {
        return Err("no user field named".to_owned());
    }
    Ok(fields)
}

/// The prefix is not a usable mount point.
#[derive(Debug, thiserror::Error)]
#[error("the prefix must start with `/`, must not end with `/`, and may contain only letters, digits and `/ - _ .`")]
pub struct InvalidPrefix;

/// Checks a mount point such as `/auth` or `/api/v1/auth`.
pub fn parse_prefix(text: &str) -> Result<String, InvalidPrefix> {
    let valid = text.len() > 1
        && text.starts_with('/')
        && !text.ends_with('/')
        && !text.contains("//")
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if valid { Ok(text.to_owned()) } else { Err(InvalidPrefix) }
}

/// A redirect target that is neither a local path nor an allowed absolute URL.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` is neither a path such as `/welcome` nor an http(s) URL whose host is listed in `allowed_redirect_hosts`"
)]
pub struct InvalidRedirect(String);

/// Checks a redirect target: a path on this site (`/…`, not `//…`), or an absolute `http`/`https` URL
/// whose host is one of `allowed_hosts`. Anything else would make the service an open redirect.
pub fn parse_redirect(text: &str, allowed_hosts: &[String]) -> Result<String, InvalidRedirect> {
    let invalid = || InvalidRedirect(text.to_owned());
    if text.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid());
    }
    if text.starts_with('/') && !text.starts_with("//") {
        return Ok(text.to_owned());
    }
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?;
    let allowed = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host));
    if allowed { Ok(url.to_string()) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_prefix(text: &str, ok: bool) {
        assert_eq!(parse_prefix(text).is_ok(), ok, "{text:?}");
    }

    #[test]
    fn prefixes_are_checked() {
        check_prefix("/auth", true);
        check_prefix("/api/v1/auth", true);
        check_prefix("/", false);
        check_prefix("", false);
        check_prefix("auth", false);
        check_prefix("/auth/", false);
        check_prefix("/a//b", false);
        check_prefix("/a b", false);
        check_prefix("/a?b", false);
    }

    #[track_caller]
    fn check_redirect(text: &str, expected: Option<&str>) {
        let allowed = vec!["example.org".to_owned()];
        assert_eq!(parse_redirect(text, &allowed).ok().as_deref(), expected, "{text:?}");
    }

    #[test]
    fn redirects_are_local_paths_or_allowed_hosts() {
        check_redirect("/", Some("/"));
        check_redirect("/welcome?confirmed=1", Some("/welcome?confirmed=1"));
        check_redirect("https://example.org/welcome", Some("https://example.org/welcome"));
        check_redirect("http://EXAMPLE.org/", Some("http://example.org/"));
        check_redirect("//evil.example/", None);
        check_redirect("/\\evil.example/", None);
        check_redirect("https://evil.example/", None);
        check_redirect("https://example.org.evil.example/", None);
        check_redirect("https://user@example.org/", None);
        check_redirect("javascript:alert(1)", None);
        check_redirect("ftp://example.org/", None);
        check_redirect("welcome", None);
        check_redirect("/a\nb", None);
        check_redirect("", None);
    }

    #[test]
    fn user_fields_are_a_comma_list_of_known_names() {
        assert_eq!(parse_user_fields("id, username"), Ok(vec![UserField::Id, UserField::Username]));
        assert_eq!(parse_user_fields("email,last_login"), Ok(vec![UserField::Email, UserField::LastLogin]));
        assert!(parse_user_fields("id,password").unwrap_err().contains("unknown user field `password`"));
        assert!(parse_user_fields(" , ").is_err());
    }
}
