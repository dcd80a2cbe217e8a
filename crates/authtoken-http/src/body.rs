//! Request bodies of login, registration and the account routes: JSON, form or multipart, read into one map of fields.

use std::collections::HashMap;
use std::marker::PhantomData;

use authtoken_core::service::FieldValue;
use poem::http::HeaderValue;
use poem::{Body, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::error::BodyError;

/// The largest request body read, in bytes; larger ones answer 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The fields of a body: JSON, a form or a multipart form, all read alike. The OpenAPI document gives the schema `T`
/// for JSON and says in the body's description that the other two are accepted: listed as three media types of
/// one schema, they made client generators (openapi-python-client) emit code that does not import.
///
/// Reading it never fails the request: a body that cannot be read is a [`BodyError`], which the handler answers
/// through its own response enum, so that every status it documents is one it produces.
#[derive(Debug)]
pub(crate) struct FieldsBody<T> {
    pub(crate) fields: Result<Fields, BodyError>,
    _schema: PhantomData<T>,
}

/// What a body held.
#[derive(Debug)]
pub(crate) enum Fields {
    /// A JSON object, a form or a multipart form (an empty body counts as no fields).
    Object(HashMap<String, FieldValue>),
    /// A JSON value that is not an object, with the name Python gives its type (`list`, `str`, …).
    NotObject(&'static str),
}

impl Fields {
    /// The field `name`, moved out of the map; a body that is not an object has no fields.
    pub(crate) fn take(&mut self, name: &str) -> FieldValue {
        match self {
            Self::Object(map) => map.remove(name).unwrap_or(FieldValue::Missing),
            Self::NotObject(_) => FieldValue::Missing,
        }
    }
}

impl<'a, T: Type> ApiExtractor<'a> for FieldsBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        let content = vec![MetaMediaType { content_type: JSON, schema: T::schema_ref() }];
        Some(MetaRequest { description: Some(OTHER_MEDIA_TYPES), content, required: true })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self { fields: read_fields(request, body.take()?).await, _schema: PhantomData })
    }
}

/// What [`read_body`] made of a body: the fields, the name of a JSON value's type that is not an object, or the
/// `detail` of the 400, 413 or 415 that refuses it.
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub enum ReadBody {
    /// The fields of a JSON object, a form or a multipart form.
    Fields(HashMap<String, FieldValue>),
    /// A JSON value that is not an object.
    NotObject(&'static str),
    /// The message of the refusal.
    Refused(String),
}

/// Reads `body` exactly as a handler reads the body of a poem request with the `Content-Type` value `content_type`,
/// for the fuzz targets in `fuzz/`; not part of the API. `None` when `content_type` is no valid header value, since
/// no request could carry it.
#[doc(hidden)]
pub async fn read_body(content_type: Option<&[u8]>, body: Vec<u8>) -> Option<ReadBody> {
    let mut request = Request::builder();
    if let Some(content_type) = content_type {
        request = request.header(poem::http::header::CONTENT_TYPE, HeaderValue::from_bytes(content_type).ok()?);
    }
    let request = request.finish();
    Some(match read_fields(&request, Body::from_vec(body)).await {
        Ok(Fields::Object(fields)) => ReadBody::Fields(fields),
        Ok(Fields::NotObject(kind)) => ReadBody::NotObject(kind),
        Err(e) => ReadBody::Refused(e.to_string()),
    })
}

async fn read_fields(request: &Request, body: Body) -> Result<Fields, BodyError> {
    let bytes = body.into_bytes_limit(MAX_BODY_BYTES).await.map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => BodyError::PayloadTooLarge,
        _ => BodyError::Unreadable,
    })?;
    let content_type = request.content_type().unwrap_or_default();
    let essence = content_type.parse::<mime::Mime>().map(|m| m.essence_str().to_owned()).unwrap_or_default();
    match essence.as_str() {
        _ if content_type.is_empty() && bytes.is_empty() => Ok(Fields::Object(HashMap::new())),
        JSON => json_fields(&bytes),
        FORM => form_fields(&bytes),
        MULTIPART => multipart_fields(request, Body::from(bytes)).await,
        _ => Err(BodyError::UnsupportedMediaType(content_type.to_owned())),
    }
}

/// What the document says of the media types it does not list.
const OTHER_MEDIA_TYPES: &str = "The same fields are also accepted as a form (`application/x-www-form-urlencoded`) or a \
    multipart form (`multipart/form-data`), as upstream accepts them.";

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

fn json_fields(bytes: &[u8]) -> Result<Fields, BodyError> {
    if bytes.is_empty() {
        return Ok(Fields::Object(HashMap::new()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| BodyError::JsonParse(e.to_string()))?;
    let object = match value {
        serde_json::Value::Object(object) => object,
        serde_json::Value::Array(_) => return Ok(Fields::NotObject("list")),
        serde_json::Value::String(_) => return Ok(Fields::NotObject("str")),
        serde_json::Value::Bool(_) => return Ok(Fields::NotObject("bool")),
        serde_json::Value::Number(n) if n.is_f64() => return Ok(Fields::NotObject("float")),
        serde_json::Value::Number(_) => return Ok(Fields::NotObject("int")),
        serde_json::Value::Null => return Ok(Fields::NotObject("NoneType")),
    };
    let fields = object
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::String(text) => FieldValue::Text(text),
                serde_json::Value::Null => FieldValue::Null,
                serde_json::Value::Bool(value) => FieldValue::Bool(value),
                _ => FieldValue::NotString,
            };
            (name, value)
        })
        .collect();
    Ok(Fields::Object(fields))
}

/// A form; when a name repeats, the last value wins (as Django's `QueryDict` reads it).
fn form_fields(bytes: &[u8]) -> Result<Fields, BodyError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(bytes).map_err(|e| BodyError::FormParse(e.to_string()))?;
    Ok(Fields::Object(pairs.into_iter().map(|(name, value)| (name, FieldValue::Text(value))).collect()))
}

/// A multipart form's text fields; file parts are not fields (Django keeps them apart), so they are skipped.
async fn multipart_fields(request: &Request, body: Body) -> Result<Fields, BodyError> {
    let parse_error = |e: &dyn std::fmt::Display| BodyError::MultipartParse(e.to_string());
    let mut body = RequestBody::new(body);
    // A missing or malformed boundary fails here, so it too must become the JSON envelope.
    let mut multipart = <poem::web::Multipart as poem::FromRequest>::from_request(request, &mut body)
        .await
        .map_err(|e| parse_error(&e))?;
    let mut fields = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| parse_error(&e))? {
        let (Some(name), None) = (field.name().map(str::to_owned), field.file_name()) else {
            continue;
        };
        let text = field.text().await.map_err(|e| parse_error(&e))?;
        fields.insert(name, FieldValue::Text(text));
    }
    Ok(Fields::Object(fields))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const BOUNDARY: &str = "authtoken-test-boundary";

    fn read(content_type: Option<&str>, body: &[u8]) -> Option<ReadBody> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime.block_on(read_body(content_type.map(str::as_bytes), body.to_vec()))
    }

    fn texts(pairs: &[(&str, &str)]) -> ReadBody {
        ReadBody::Fields(
            pairs.iter().map(|(name, value)| ((*name).to_owned(), FieldValue::Text((*value).to_owned()))).collect(),
        )
    }

    #[track_caller]
    fn check(content_type: Option<&str>, body: &str, expected: Option<ReadBody>) {
        assert_eq!(read(content_type, body.as_bytes()), expected, "{content_type:?} {body:?}");
    }

    fn refused(detail: &str) -> Option<ReadBody> {
        Some(ReadBody::Refused(detail.to_owned()))
    }

    #[test]
    fn reads_bodies_as_the_handlers_do() {
        let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
        let two_fields = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nfile\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--{BOUNDARY}--\r\n"
        );
        check(
            Some("application/json"),
            r#"{"a":"1","b":null,"c":true,"d":2}"#,
            Some(ReadBody::Fields(HashMap::from([
                ("a".to_owned(), FieldValue::Text("1".to_owned())),
                ("b".to_owned(), FieldValue::Null),
                ("c".to_owned(), FieldValue::Bool(true)),
                ("d".to_owned(), FieldValue::NotString),
            ]))),
        );
        check(Some("application/json; charset=utf-8"), "[1]", Some(ReadBody::NotObject("list")));
        check(Some("application/json"), "1.5", Some(ReadBody::NotObject("float")));
        check(Some("application/x-www-form-urlencoded"), "a=1&b=%20x&a=2", Some(texts(&[("a", "2"), ("b", " x")])));
        check(Some(&multipart), &two_fields, Some(texts(&[("a", "2")])));
        check(None, "", Some(texts(&[])));
        check(Some("application/json"), "", Some(texts(&[])));
        check(Some("text/plain"), "a=1", refused("Unsupported media type \"text/plain\" in request."));
        check(None, "a=1", refused("Unsupported media type \"\" in request."));
        check(
            Some("application/json"),
            "{",
            refused("JSON parse error - EOF while parsing an object at line 1 column 1"),
        );
        check(
            Some("multipart/form-data"),
            "x",
            refused("Multipart form parse error - parse: multipart boundary not found in Content-Type"),
        );
        check(Some("application/json\n"), "{}", None);
    }

    /// One field as a client may send it: a name and a text.
    fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec((any::<String>(), any::<String>()), 0..6)
    }

    /// What the fields read back as: when a name repeats, the last value wins.
    fn last_wins(fields: &[(String, String)]) -> ReadBody {
        ReadBody::Fields(fields.iter().map(|(name, value)| (name.clone(), FieldValue::Text(value.clone()))).collect())
    }

    fn json(fields: &[(String, String)]) -> Vec<u8> {
        let members: Vec<String> = fields
            .iter()
            .map(|(name, value)| {
                let quote = |text: &String| serde_json::to_string(text).expect("a string serialises");
                format!("{}:{}", quote(name), quote(value))
            })
            .collect();
        format!("{{{}}}", members.join(",")).into_bytes()
    }

    fn multipart(fields: &[(String, String)]) -> Vec<u8> {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{BOUNDARY}--\r\n"));
        body.into_bytes()
    }

    proptest! {
        #[test]
        fn a_json_object_of_strings_reads_back(fields in fields()) {
            prop_assert_eq!(read(Some("application/json"), &json(&fields)), Some(last_wins(&fields)));
        }

        #[test]
        fn a_form_reads_back(fields in fields()) {
            let body = serde_urlencoded::to_string(&fields).unwrap();

            prop_assert_eq!(read(Some("application/x-www-form-urlencoded"), body.as_bytes()), Some(last_wins(&fields)));
        }

        /// Names leave out what a client escapes or cannot send in a header: a browser writes `"`, CR and LF
        /// percent-encoded, a backslash starts an escape in a quoted string, and no header holds a control character.
        #[test]
        fn a_multipart_form_reads_back(
            fields in proptest::collection::vec((r#"[^"\\\x00-\x08\x0a-\x1f\x7f]*"#, any::<String>()), 0..6),
        ) {
            prop_assume!(fields.iter().all(|(name, value)| !name.contains(BOUNDARY) && !value.contains(BOUNDARY)));
            let content_type = format!("multipart/form-data; boundary={BOUNDARY}");

            prop_assert_eq!(read(Some(&content_type), &multipart(&fields)), Some(last_wins(&fields)));
        }
    }
}
