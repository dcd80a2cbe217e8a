//! Registration of new users (mounted only when registration is enabled).

use authtoken_core::AuthService;
use authtoken_core::service::{RegisterError, RegistrationForm};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::body::{Fields, FieldsBody};
use crate::envelope::{ApiError, ErrorBody};

#[derive(Tags)]
enum Tag {
    /// Creating accounts.
    Registration,
}

pub(crate) struct RegistrationApi {
    service: AuthService,
}

impl RegistrationApi {
    pub(crate) fn new(service: &AuthService) -> Self {
        Self { service: service.clone() }
    }
}

/// A new account.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct RegisterFields {
    /// 1 to 150 characters: letters, digits and `@ . + - _`; surrounding whitespace is trimmed.
    username: String,
    /// At least `password_min_length` (default 8) and at most 128 characters; never trimmed.
    #[oai(write_only)]
    password: String,
    /// Required when email confirmation is on (a link is mailed to it); ignored otherwise.
    email: Option<String>,
}

/// The account was created.
#[derive(Object, Debug)]
struct Created {
    success: bool,
}

/// Field errors: each field with its messages, in field order.
#[derive(Object, Debug, Default)]
struct RegisterErrors {
    #[oai(skip_serializing_if_is_none)]
    username: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    password: Option<Vec<String>>,
    #[oai(skip_serializing_if_is_none)]
    email: Option<Vec<String>>,
    /// Set when the body is not an object.
    #[oai(skip_serializing_if_is_none)]
    non_field_errors: Option<Vec<String>>,
}

#[allow(dead_code, reason = "error variants document what the body extractor and TokenLayer answer")]
#[derive(ApiResponse, Debug)]
enum RegisterResponse {
    /// `{"success":true}`. No token: log in next.
    #[oai(status = 201, content_type = "application/json")]
    Created(Json<Created>),
    /// Field errors (or a malformed JSON body, as `{"detail": …}`).
    #[oai(status = 400, content_type = "application/json")]
    Invalid(Json<RegisterErrors>),
    /// A content type other than JSON, form or multipart.
    #[oai(status = 415, content_type = "application/json")]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A body over 64 KiB.
    #[oai(status = 413, content_type = "application/json")]
    PayloadTooLarge(Json<ErrorBody>),
    /// The database is unavailable.
    #[oai(status = 503, content_type = "application/json")]
    Unavailable(Json<ErrorBody>),
}

#[OpenApi(tag = "Tag::Registration")]
impl RegistrationApi {
    /// Register
    ///
    /// Creates an active user. The `Authorization` header is ignored. With email confirmation on, the `email` field
    /// is required and a confirmation link is mailed to it, in the language of `Accept-Language` when one is configured.
    #[oai(path = "/register/", method = "post", operation_id = "register")]
    async fn register(
        &self,
        request: &poem::Request,
        body: FieldsBody<RegisterFields>,
    ) -> poem::Result<RegisterResponse> {
        let mut fields: Fields = body.fields;
        if let Fields::NotObject(type_name) = fields {
            return Ok(RegisterResponse::Invalid(Json(RegisterErrors {
                non_field_errors: Some(vec![format!("Invalid data. Expected a dictionary, but got {type_name}.")]),
                ..RegisterErrors::default()
            })));
        }
        let languages = request
            .headers()
            .get(poem::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(accept_language::parse)
            .unwrap_or_default();
        let form = RegistrationForm {
            username: fields.take("username"),
            password: fields.take("password"),
            email: fields.take("email"),
            languages,
        };
        match self.service.register(form).await {
            Ok(_) => Ok(RegisterResponse::Created(Json(Created { success: true }))),
            Err(RegisterError::Invalid(errors)) => {
                let mut body = RegisterErrors::default();
                for (field, messages) in errors.0 {
                    match field {
                        "username" => body.username = Some(messages),
                        "password" => body.password = Some(messages),
                        "email" => body.email = Some(messages),
                        _ => body.non_field_errors.get_or_insert_with(Vec::new).extend(messages),
                    }
                }
                Ok(RegisterResponse::Invalid(Json(body)))
            }
            Err(RegisterError::Failed(failure)) => Err(ApiError::from(failure).into()),
        }
    }
}
