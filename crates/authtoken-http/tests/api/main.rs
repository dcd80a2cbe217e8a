//! The HTTP API end to end through `poem::test::TestClient`: bodies, envelopes, authentication and the OpenAPI
//! document, over the testkit's `InMemoryStore`.
//!
//! `authtoken-server`'s `api` test binary runs these same files over SQLite and PostgreSQL; see `support.rs`.

mod account;
mod authorization;
mod client_ip;
mod concurrency;
mod confirmation;
mod cors;
mod envelopes;
mod events;
mod headers;
mod host;
mod login;
mod logout;
mod me;
mod openapi;
mod register;
mod reply;
mod reset;
mod schema;
mod sessions;
mod store_failure;
mod support;
mod throttle;
mod token_prefix;

/// The stores behind every `TestApp` of this binary.
mod stores {
    use authtoken_testkit::InMemoryStore;
    use authtoken_testkit::contract::Stores;

    /// Empty in-memory stores; always available.
    pub(crate) async fn fresh() -> Option<Stores> {
        Some(Stores::of(InMemoryStore::default()))
    }
}
