//! Registration of new users (mounted only when registration is enabled).

use authtoken_core::AuthService;
use authtoken_core::service::{RegisterError, RegistrationForm};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, Union};

use crate::body::{Fields, FieldsBody};
use crate::error::{ErrorBody, impl_from_body_error, impl_from_failure, impl_from_throttled};

#[derive(Tags)]
enum Tag {
    /// Creating accounts.
    Registration,
}

/// Registration.
pub(crate) struct RegistrationApi;

/// A new account.
#[allow(dead_code, reason = "a schema for the OpenAPI document; bodies are read by FieldsBody")]
#[derive(Object, Debug)]
struct RegisterFields {
    /// 1 to 150 characters, each a Unicode letter or number or one of `@ . + - _`; surrounding white space is
    /// trimmed.
    username: String,
    /// At least `password_min_length` (default 8) and at most 128 characters; never trimmed.
    #[oai(write_only)]
    password: String,
    /// The address the confirmation link is mailed to; surrounding white space is trimmed. The field exists only
    /// when email confirmation is on.
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

/// What a 400 of registration holds.
#[derive(Union, Debug)]
enum RegisterProblem {
    /// The fields that are wrong, each with its messages.
    Fields(RegisterErrors),
    /// A body that cannot be parsed.
    Malformed(ErrorBody),
}

/// A registration that worked.
#[derive(ApiResponse, Debug)]
enum RegisterResponse {
    /// `{"success":true}`. No token: log in next.
    #[oai(status = 201, content_type = "application/json")]
    Created(Json<Created>),
}

/// Why a registration did not work.
#[derive(ApiResponse, Debug)]
enum RegisterFailure {
    /// Field errors, or a body that cannot be parsed (as `{"detail": …}`).
    #[oai(status = 400, content_type = "application/json")]
    Invalid(Json<RegisterProblem>),
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

impl_from_failure!(RegisterFailure);
impl_from_throttled!(RegisterFailure);
impl_from_body_error!(RegisterFailure, |body: Json<ErrorBody>| RegisterFailure::Invalid(Json(
    RegisterProblem::Malformed(body.0)
)));

impl RegisterFailure {
    fn fields(errors: RegisterErrors) -> Self {
        Self::Invalid(Json(RegisterProblem::Fields(errors)))
    }
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
        service: Data<&AuthService>,
        request: &poem::Request,
        body: FieldsBody<RegisterFields>,
    ) -> Result<RegisterResponse, RegisterFailure> {
        let mut fields: Fields = body.fields?;
        if let Fields::NotObject(type_name) = fields {
            return Err(RegisterFailure::fields(RegisterErrors {
                non_field_errors: Some(vec![format!("Invalid data. Expected a dictionary, but got {type_name}.")]),
                ..RegisterErrors::default()
            }));
        }
        let languages = languages(request);
        let form = RegistrationForm {
            username: fields.take("username"),
            password: fields.take("password"),
            email: fields.take("email"),
            languages,
            client: crate::client_ip::client_info(request),
        };
        match service.register(form).await {
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
                Err(RegisterFailure::fields(body))
            }
            Err(RegisterError::Throttled(throttled)) => Err(throttled.into()),
            Err(RegisterError::Failed(failure)) => Err(failure.into()),
        }
    }
}

/// The client's languages from `Accept-Language`, most preferred first, for the mail the request sends.
pub(crate) fn languages(request: &poem::Request) -> Vec<String> {
    request
        .headers()
        .get(poem::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(accept_language::parse)
        .unwrap_or_default()
}
