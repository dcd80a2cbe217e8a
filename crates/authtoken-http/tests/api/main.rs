//! The HTTP API end to end through `poem::test::TestClient`: bodies, envelopes, authentication and the OpenAPI document.

mod authorization;
mod envelopes;
mod login;
mod logout;
mod me;
mod openapi;
mod register;
mod store_failure;
mod support;
