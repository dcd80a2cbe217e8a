//! The OpenAPI document the service serves, at `/openapi.json` and in Swagger UI: poem-openapi's document of the
//! operations, with what poem-openapi cannot say from types alone written in. That is the field rules of the
//! bodies (some depend on the settings, such as the shortest password), the form of a token (with its
//! `token_prefix`), and the health routes, which live at the root of the site rather than under the prefix.
//!
//! The bodies are read by `body.rs`, never by poem-openapi, so these keywords only describe: the handlers judge
//! the fields themselves and answer a field that breaks a rule with their own 400, as upstream words it.

use authtoken_core::TokenPrefix;
use authtoken_core::token::TOKEN_CHARS;
use authtoken_core::user::{EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, USERNAME_MAX_CHARS};
use poem_openapi::{OpenApi, OpenApiService};
use serde_json::{Value, json};

/// What the field rules of the document depend on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldRules {
    /// The fewest characters a new password may have (`password_min_length`).
    pub(crate) password_min_length: usize,
    /// Whether registration asks for an email.
    pub(crate) confirms_email: bool,
    /// What every token starts with (`token_prefix`).
    pub(crate) token_prefix: TokenPrefix,
}

/// The characters that `str::trim` removes around a username: Unicode's `White_Space`, spelled out so that every
/// regular expression engine reads it alike (ECMAScript's `\s` differs from it).
const WHITE_SPACE: &str = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A username at registration: surrounding white space, then 1 to 150 Unicode letters, numbers and `@ . + - _`.
pub(crate) fn username_pattern() -> String {
    format!(r"^[{WHITE_SPACE}]*[\p{{L}}\p{{N}}@.+_-]{{1,{USERNAME_MAX_CHARS}}}[{WHITE_SPACE}]*$")
}

/// The document of `api` with the health routes beside it and the field rules written in.
pub(crate) fn document<T: OpenApi>(api: &OpenApiService<T, ()>, rules: FieldRules) -> String {
    let health = crate::health_service().spec();
    let (Ok(mut document), Ok(health)) =
        (serde_json::from_str::<Value>(&api.spec()), serde_json::from_str::<Value>(&health))
    else {
        // poem-openapi writes both documents with serde_json, so they read back; this is never reached.
        return api.spec();
    };
    merge(&mut document, health);
    if let Some(schemas) = document.get_mut("components").and_then(|c| c.get_mut("schemas")) {
        write_field_rules(schemas, rules);
    }
    write_token_form(&mut document, rules.token_prefix);
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| api.spec())
}

/// Swagger UI's page for `api`, carrying `document` instead of poem-openapi's own document of it.
pub(crate) fn swagger_ui<T: OpenApi>(api: &OpenApiService<T, ()>, document: &str) -> String {
    api.swagger_ui_html().replacen(&api.spec(), document, 1)
}

/// Adds the paths, schemas and tags of `other` that `document` does not have.
fn merge(document: &mut Value, other: Value) {
    let Value::Object(mut other) = other else { return };
    for key in ["paths", "components"] {
        if let (Some(Value::Object(into)), Some(Value::Object(from))) = (document.get_mut(key), other.remove(key)) {
            for (name, value) in from {
                match (into.get_mut(&name), value) {
                    (Some(Value::Object(existing)), Value::Object(more)) => {
                        for (inner, value) in more {
                            existing.entry(inner).or_insert(value);
                        }
                    }
                    (Some(_), _) => {}
                    (None, value) => {
                        into.insert(name, value);
                    }
                }
            }
        }
    }
    if let (Some(Value::Array(into)), Some(Value::Array(from))) = (document.get_mut("tags"), other.remove("tags")) {
        into.extend(from);
    }
}

/// Writes the rules of the login and registration fields into their schemas.
fn write_field_rules(schemas: &mut Value, rules: FieldRules) {
    let password = json!({ "minLength": rules.password_min_length, "maxLength": PASSWORD_MAX_CHARS });
    if let Some(change) = schemas.get_mut("ChangeFields") {
        add(change, "new_password", password.clone());
        add(change, "current_password", json!({ "minLength": 1, "maxLength": PASSWORD_MAX_CHARS }));
    }
    for schema in ["ResetFields", "ResetFormFields"] {
        if let Some(reset) = schemas.get_mut(schema) {
            add(reset, "new_password", password.clone());
        }
    }
    if let Some(request) = schemas.get_mut("ResetRequestFields") {
        add(request, "email", json!({ "format": "email", "maxLength": EMAIL_MAX_CHARS }));
    }
    // A re-entered password is one that registration took.
    if let Some(reentered) = schemas.get_mut("PasswordFields") {
        add(reentered, "password", json!({ "minLength": 1, "maxLength": PASSWORD_MAX_CHARS }));
    }
    if let Some(register) = schemas.get_mut("RegisterFields") {
        add(register, "username", json!({ "minLength": 1, "pattern": username_pattern() }));
        add(register, "password", password);
        if rules.confirms_email {
            add(register, "email", json!({ "format": "email", "maxLength": EMAIL_MAX_CHARS }));
            if let Some(Value::Array(required)) = register.get_mut("required") {
                required.push(json!("email"));
            }
        } else if let Some(Value::Object(properties)) = register.get_mut("properties") {
            properties.shift_remove("email");
        }
    }
    // Any text may be tried at login; these bounds hold for every name and password that registration takes.
    if let Some(login) = schemas.get_mut("LoginFields") {
        add(login, "username", json!({ "minLength": 1, "maxLength": USERNAME_MAX_CHARS }));
        add(login, "password", json!({ "minLength": 1, "maxLength": PASSWORD_MAX_CHARS }));
    }
}

/// Writes the form of a token into the login answer's schema (a `pattern`) and, with a prefix, into the
/// descriptions of the answer and of the security scheme.
fn write_token_form(document: &mut Value, prefix: TokenPrefix) {
    let Some(components) = document.get_mut("components") else { return };
    let pattern = format!("^{}[A-Za-z0-9_-]{{{TOKEN_CHARS}}}$", prefix.as_str());
    let mut token = json!({ "pattern": pattern });
    if !prefix.is_empty() {
        let description =
            format!("`{}` followed by 64 characters of URL-safe base64; shown only in this response.", prefix.as_str());
        token["description"] = json!(description);
        let scheme = format!(
            "Send `Authorization: Token <token>`, the token a login answered with: `{}` followed by 64 characters \
            (the keyword `Token` is case-insensitive; a token without the prefix is refused). Only a valid, unexpired \
            token of an active user is accepted; every refusal is a 401 with `WWW-Authenticate: Token`.",
            prefix.as_str()
        );
        if let Some(Value::Object(auth)) =
            components.get_mut("securitySchemes").and_then(|schemes| schemes.get_mut("TokenAuth"))
        {
            auth.insert("description".to_owned(), json!(scheme));
        }
    }
    if let Some(login) = components.get_mut("schemas").and_then(|schemas| schemas.get_mut("LoginBody")) {
        add(login, "token", token);
    }
}

/// Adds `keywords` to the schema of the property `name` of `object`.
fn add(object: &mut Value, name: &str, keywords: Value) {
    if let (Some(Value::Object(property)), Value::Object(keywords)) =
        (object.get_mut("properties").and_then(|p| p.get_mut(name)), keywords)
    {
        property.extend(keywords);
    }
}
