//! Runs the example on http://127.0.0.1:3000 over `./host.sqlite3` (or `HOST_DATABASE_URL`).

use authtoken_argon2::Argon2Params;
use poem::listener::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("HOST_DATABASE_URL").unwrap_or_else(|_| "sqlite://host.sqlite3".to_owned());
    let service = poem_host::service(&url, Argon2Params::RECOMMENDED).await?;
    println!("register at http://127.0.0.1:3000/auth/register/, then read http://127.0.0.1:3000/api/notes");
    poem::Server::new(TcpListener::bind("127.0.0.1:3000")).run(poem_host::app(service)).await?;
    Ok(())
}
