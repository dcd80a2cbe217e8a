//! The committed `docs/openapi.json` is the document the running service serves (registration, confirmation and
//! password reset on).

use authtoken_sql::Backend;

use crate::support::{Server, binary, database};

#[tokio::test]
async fn docs_openapi_json_matches_the_running_service() {
    let database = database(Backend::Sqlite).await.unwrap();
    let server = Server::start(
        &database.options.url,
        &[("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true"), ("AUTHTOKEN_PASSWORD_RESET_ENABLED", "true")],
    );
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/openapi.json")).expect("docs/openapi.json is JSON");

    let served: serde_json::Value =
        reqwest::get(server.url("/openapi.json")).await.unwrap().json().await.expect("the service serves JSON");

    assert!(served == committed, "docs/openapi.json is out of date: run `cargo xtask openapi`");
}

#[tokio::test]
async fn authtoken_openapi_prints_the_document_without_opening_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("never-created.sqlite3");
    let unreachable = "postgres://postgres@127.0.0.1:1/nothing";
    let print = |url: String| {
        binary()
            .arg("openapi")
            .env("AUTHTOKEN_DATABASE_URL", url)
            .env("AUTHTOKEN_REGISTRATION_ENABLED", "true")
            .env("AUTHTOKEN_REGISTRATION_EMAIL_CONFIRM", "true")
            .env("AUTHTOKEN_PASSWORD_RESET_ENABLED", "true")
            .output()
            .expect("the binary runs")
    };
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/openapi.json")).expect("docs/openapi.json is JSON");

    let outputs = [print(format!("sqlite://{}", database.display())), print(unreachable.to_owned())];

    for output in outputs {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the document is JSON");
        assert!(printed == committed, "the printed document is the committed one");
    }
    assert!(!database.exists(), "no database file was created");
}
