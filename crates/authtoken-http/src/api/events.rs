//! The caller's audit trail: what happened to the account, when, and from where.

use std::borrow::Cow;

use authtoken_core::AuthService;
use authtoken_core::event::{EventKind, StoredEvent};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::error::AuthFailure;
use crate::security::TokenAuth;
use crate::user::{OrNull as _, rfc3339};

#[derive(Tags)]
enum Tag {
    /// Seeing what happened to one's account.
    AuditTrail,
}

/// The audit trail of the authenticated user.
pub(crate) struct EventsApi;

/// What happened, written as the core names it ([`EventKind::as_str`]): the document lists every name the core has,
/// so a new kind can never be missing from it.
#[derive(Debug, Clone, Copy)]
struct KindBody(EventKind);

impl Type for KindBody {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "EventKind".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
            description: Some("What happened."),
            enum_items: EventKind::ALL.iter().map(|kind| kind.as_str().into()).collect(),
            ..MetaSchema::new("string")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for KindBody {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.as_str().into())
    }
}

impl ParseFromJSON for KindBody {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        let value = value.unwrap_or_default();
        match value.as_str().and_then(EventKind::parse) {
            Some(kind) => Ok(Self(kind)),
            None => Err(ParseError::expected_type(value)),
        }
    }
}

/// One event of the caller's account.
#[derive(Object, Debug)]
#[oai(rename = "Event")]
struct EventBody {
    /// When it happened, RFC 3339 UTC.
    time: String,
    // What happened: the `EventKind` schema says so. A description here would wrap its reference in `allOf`, which
    // client generators such as openapi-python-client cannot read for a string.
    kind: KindBody,
    /// The public id of the session it concerns (the new one of a login, the revoked one of a revocation by id, else
    /// the one that made the request); `null` when none did. Never a token.
    #[oai(nullable)]
    session_id: MaybeUndefined<String>,
    /// The client's IP address; `null` when unknown, or for an operator's command.
    #[oai(nullable)]
    ip: MaybeUndefined<String>,
    /// The request's `User-Agent`, cut to 256 characters; `null` when it had none, or for an operator's command.
    #[oai(nullable)]
    user_agent: MaybeUndefined<String>,
}

impl EventBody {
    fn new(stored: &StoredEvent) -> Self {
        let or_null = |value: Option<String>| MaybeUndefined::from_opt_undefined(value).or_null();
        let event = &stored.event;
        Self {
            time: rfc3339(event.at),
            kind: KindBody(event.kind),
            session_id: or_null(event.session_id.as_ref().map(|id| id.as_str().to_owned())),
            ip: or_null(event.client.ip.clone()),
            user_agent: or_null(event.client.user_agent.clone()),
        }
    }
}

/// The caller's events.
#[derive(ApiResponse, Debug)]
enum EventsResponse {
    /// The caller's latest 100 events, newest first.
    #[oai(status = 200, content_type = "application/json")]
    Ok(Json<Vec<EventBody>>),
}

#[OpenApi(tag = "Tag::AuditTrail")]
impl EventsApi {
    /// List my events
    ///
    /// The caller's latest 100 events, newest first: logins (and failed ones), logouts, revocations, password
    /// changes and resets, registration, confirmation, throttled requests and what operators did to the account,
    /// each with its time, the session, and the client's IP address and user agent.
    #[oai(path = "/events/", method = "get", operation_id = "events")]
    async fn list(&self, service: Data<&AuthService>, auth: TokenAuth) -> Result<EventsResponse, AuthFailure> {
        let events = service.events(&auth.0).await?;
        Ok(EventsResponse::Ok(Json(events.iter().map(EventBody::new).collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_the_name_it_is_written_with() {
        for kind in EventKind::ALL {
            let written = KindBody(kind).to_json();

            assert_eq!(written, Some(serde_json::Value::String(kind.as_str().to_owned())), "{kind:?}");
            assert_eq!(KindBody::parse_from_json(written).map(|read| read.0).ok(), Some(kind));
        }
        assert!(KindBody::parse_from_json(Some("no_such_kind".into())).is_err());
    }
}
