//! How a user is shown in responses: only the configured fields, always in the same order.

use authtoken_core::{Timestamp, User};
use poem_openapi::Object;
use poem_openapi::types::MaybeUndefined;

use crate::config::UserField;

/// A user, with only the fields the service is configured to show (by default `id` and `username`).
#[derive(Object, Clone, Debug, PartialEq)]
#[oai(rename = "User")]
pub(crate) struct UserBody {
    #[oai(skip_serializing_if_is_none)]
    id: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    username: Option<String>,
    #[oai(skip_serializing_if = "MaybeUndefined::is_undefined", nullable)]
    email: MaybeUndefined<String>,
    #[oai(skip_serializing_if_is_none)]
    email_confirmed: Option<bool>,
    #[oai(skip_serializing_if_is_none)]
    is_active: Option<bool>,
    /// RFC 3339, UTC.
    #[oai(skip_serializing_if_is_none)]
    date_joined: Option<String>,
    /// RFC 3339, UTC; `null` before the first login.
    #[oai(skip_serializing_if = "MaybeUndefined::is_undefined", nullable)]
    last_login: MaybeUndefined<String>,
}

impl UserBody {
    pub(crate) fn new(user: &User, fields: &[UserField]) -> Self {
        let mut body = Self {
            id: None,
            username: None,
            email: MaybeUndefined::Undefined,
            email_confirmed: None,
            is_active: None,
            date_joined: None,
            last_login: MaybeUndefined::Undefined,
        };
        for field in fields {
            match field {
                UserField::Id => body.id = Some(user.id.0),
                UserField::Username => body.username = Some(user.username.clone()),
                UserField::Email => body.email = MaybeUndefined::from_opt_undefined(user.email.clone()).or_null(),
                UserField::EmailConfirmed => body.email_confirmed = Some(user.email_confirmed),
                UserField::IsActive => body.is_active = Some(user.is_active),
                UserField::DateJoined => body.date_joined = Some(rfc3339(user.joined_at)),
                UserField::LastLogin => {
                    body.last_login = MaybeUndefined::from_opt_undefined(user.last_login_at.map(rfc3339)).or_null();
                }
            }
        }
        body
    }
}

/// A value to show that may be missing: shown as `null` rather than left out.
pub(crate) trait OrNull {
    fn or_null(self) -> Self;
}

impl<T> OrNull for MaybeUndefined<T> {
    /// A requested field without a value is shown as `null`, not left out.
    fn or_null(self) -> Self {
        match self {
            MaybeUndefined::Undefined => MaybeUndefined::Null,
            other => other,
        }
    }
}

/// A time as RFC 3339 in UTC, to the millisecond, as every response shows times.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    let millis = u64::try_from(at.as_millis()).unwrap_or(0);
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_millis(time).to_string()
}
