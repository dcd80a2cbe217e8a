//! Request bodies of login, registration and the account routes: JSON, form or multipart, read into one map of fields.

use std::collections::HashMap;
use std::marker::PhantomData;

use authtoken_core::service::FieldValue;
use poem::{Body, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::error::BodyError;

/// The largest request body read, in bytes; larger ones answer 413.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// The fields of a body, documented in the OpenAPI document with the schema `T` for each of the three content types.
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
        let content = [JSON, FORM, MULTIPART]
            .into_iter()
            .map(|content_type| MetaMediaType { content_type, schema: T::schema_ref() })
            .collect();
        Some(MetaRequest { description: None, content, required: true })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self { fields: read_fields(request, body.take()?).await, _schema: PhantomData })
    }
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
