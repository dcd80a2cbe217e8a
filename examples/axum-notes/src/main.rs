//! Runs the example on http://127.0.0.1:3000 over `./notes.sqlite3` (or `NOTES_DATABASE_URL`).
//!
//! Users come from the store: for example, register one with the authtoken service on the same database.

use authtoken_argon2::Argon2Params;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("NOTES_DATABASE_URL").unwrap_or_else(|_| "sqlite://notes.sqlite3".to_owned());
    let service = axum_notes::service(&url, Argon2Params::RECOMMENDED).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("notes on http://{}", listener.local_addr()?);
    axum::serve(listener, axum_notes::app(service)).await?;
    Ok(())
}
