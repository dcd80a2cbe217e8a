//! Fuzzes the request body reader of `authtoken-http` through a real poem request: JSON, form and multipart bodies
//! under a content type that the input chooses never panic, and fields written by a client read back.
//!
//! An input is either raw, its first line the `Content-Type` (an empty line sends none) and the rest the body, or,
//! after a first byte 0xff, fields that `arbitrary` draws and one of the three encodings writes.

#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use authtoken_core::service::FieldValue;
use authtoken_http::{ReadBody, read_body};
use libfuzzer_sys::fuzz_target;

/// The multipart boundary of drawn fields.
const BOUNDARY: &str = "authtoken-fuzz-boundary";

/// The most drawn fields one input writes.
const MAX_FIELDS: usize = 16;

/// Python's names of the JSON types that are not objects.
const NOT_OBJECTS: [&str; 6] = ["list", "str", "bool", "float", "int", "NoneType"];

#[derive(Arbitrary, Debug)]
enum Encoding {
    Json,
    Form,
    Multipart,
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0xff, rest)) => {
            if let Ok((encoding, mut fields)) = Unstructured::new(rest).arbitrary::<(Encoding, Vec<(String, String)>)>()
            {
                // Thousands of empty fields find nothing more than a few do, and slow every run down.
                fields.truncate(MAX_FIELDS);
                read_back(&encoding, &fields);
            }
        }
        _ => raw(data),
    }
});

/// Any body under any content type: no panic, and what is read is consistent.
fn raw(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|byte| *byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let content_type = (!content_type.is_empty()).then_some(content_type);
    let Some(outcome) = read(content_type, body.to_vec()) else { return };
    let essence = content_type.map(|value| value.to_ascii_lowercase()).unwrap_or_default();
    match outcome {
        ReadBody::Fields(fields) if essence.starts_with(b"application/x-www-form-urlencoded") => {
            // A form decodes to fields that encode and decode to themselves.
            let pairs: Vec<(String, String)> = fields.iter().map(|(name, value)| (name.clone(), text(value))).collect();
            let again = serde_urlencoded::to_string(&pairs).expect("fields encode as a form");
            assert_eq!(read(content_type, again.into_bytes()), Some(ReadBody::Fields(fields)));
        }
        ReadBody::Fields(_) => {}
        ReadBody::NotObject(kind) => assert!(NOT_OBJECTS.contains(&kind), "unknown JSON type name {kind:?}"),
        ReadBody::Refused(detail) => assert!(!detail.is_empty(), "a refusal without a message"),
    }
}

/// Fields encoded as a client would read back as they were written, the last of a repeated name winning.
fn read_back(encoding: &Encoding, fields: &[(String, String)]) {
    let (content_type, body) = match encoding {
        Encoding::Json => ("application/json".to_owned(), json(fields)),
        Encoding::Form => (
            "application/x-www-form-urlencoded".to_owned(),
            serde_urlencoded::to_string(fields).expect("fields encode as a form").into_bytes(),
        ),
        Encoding::Multipart => {
            // A client percent-encodes `"`, CR and LF in names; a backslash would start an escape, and a header holds
            // no control character. multer looks for `filename` in the header without regard to quotes, so a name
            // that holds the word reads as a file part, which is skipped: no field authtoken reads is named so.
            let sendable = |name: &str| {
                !name.contains("filename")
                    && !name.chars().any(|c| c == '"' || c == '\\' || (c.is_control() && c != '\t'))
            };
            if !fields
                .iter()
                .all(|(name, value)| sendable(name) && !name.contains(BOUNDARY) && !value.contains(BOUNDARY))
            {
                return;
            }
            (format!("multipart/form-data; boundary={BOUNDARY}"), multipart(fields))
        }
    };
    let expected: HashMap<String, FieldValue> =
        fields.iter().map(|(name, value)| (name.clone(), FieldValue::Text(value.clone()))).collect();
    assert_eq!(read(Some(content_type.as_bytes()), body), Some(ReadBody::Fields(expected)), "{encoding:?}");
}

/// Reads a body on a runtime made once.
fn read(content_type: Option<&[u8]>, body: Vec<u8>) -> Option<ReadBody> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"));
    runtime.block_on(read_body(content_type, body))
}

/// The text of a form field; forms hold nothing else.
fn text(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(text) => text.clone(),
        other => panic!("a form field that is not text: {other:?}"),
    }
}

fn json(fields: &[(String, String)]) -> Vec<u8> {
    let quote = |text: &String| serde_json::to_string(text).expect("a string serialises");
    let members: Vec<String> = fields.iter().map(|(name, value)| format!("{}:{}", quote(name), quote(value))).collect();
    format!("{{{}}}", members.join(",")).into_bytes()
}

fn multipart(fields: &[(String, String)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}
