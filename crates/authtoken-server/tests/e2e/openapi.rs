//! The committed `docs/openapi.json` is the document the running service serves (registration and confirmation on).

use authtoken_sql::Backend;

use crate::support::{Server, database};

#[tokio::test]
async fn docs_openapi_json_matches_the_running_service() {
    let database = database(Backend::Sqlite).await.unwrap();
    let server = Server::start(&database.options.url, &[("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true")]);
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/openapi.json")).expect("docs/openapi.json is JSON");

    let served: serde_json::Value =
        reqwest::get(server.url("/openapi.json")).await.unwrap().json().await.expect("the service serves JSON");

    assert!(served == committed, "docs/openapi.json is out of date: run `cargo xtask openapi`");
}
