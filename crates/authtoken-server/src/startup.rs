//! Wiring: builds the stores, the hasher and the service from resolved settings, and runs the HTTP server.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use authtoken_core::AuthService;
use authtoken_core::password::Argon2id;
use authtoken_core::ports::{Clock as _, SystemClock, TokenRepo};
use authtoken_core::service::Ports;
use authtoken_sql::SqlStore;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};

use crate::hashing::PooledArgon2Hasher;
use crate::settings::Resolved;

/// The service and the store it runs on.
#[derive(Debug, Clone)]
pub struct Wired {
    pub service: AuthService,
    pub store: Arc<SqlStore>,
}

/// Opens the database (applying migrations) and builds the service.
pub async fn wire(settings: &Resolved) -> anyhow::Result<Wired> {
    let store = Arc::new(SqlStore::open(&settings.database).await.context("cannot open the database")?);
    let argon2 = Argon2id::new(settings.argon2).context("invalid password hash settings")?;
    let ports = Ports {
        tokens: store.clone(),
        users: store.clone(),
        hasher: Arc::new(PooledArgon2Hasher::new(argon2, settings.hash_concurrency)),
        clock: Arc::new(SystemClock),
    };
    Ok(Wired { service: AuthService::new(ports, settings.core.clone()), store })
}

/// Serves HTTP until `shutdown` completes, purging expired sessions in the background.
pub async fn serve(settings: &Resolved, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let wired = wire(settings).await?;
    let app = authtoken_http::app(wired.service.clone(), settings.http.clone());
    let acceptor = TcpListener::bind(settings.bind)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    for addr in acceptor.local_addr().iter().filter_map(|addr| addr.as_socket_addr().copied()) {
        tracing::info!("listening on http://{addr}");
    }
    let purge = tokio::spawn(purge_expired(wired.store.clone(), settings.purge_interval));
    let served = poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(std::time::Duration::from_secs(10)))
        .await;
    purge.abort();
    served.context("the HTTP server failed")
}

/// Deletes expired sessions every `interval`; a failure is logged and retried at the next tick.
async fn purge_expired(tokens: Arc<dyn TokenRepo>, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        match tokens.purge_expired(SystemClock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "purged expired sessions"),
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
