//! Wiring: builds the stores, the hasher and the service from resolved settings, and runs the HTTP server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use authtoken_argon2::{Argon2Hasher, Argon2id};
use authtoken_core::AuthService;
use authtoken_core::delivery::Delivery;
use authtoken_core::ports::{Mailer, SystemClock, ThrottleStore};
use authtoken_core::service::Ports;
use authtoken_core::throttle_memory::MemoryThrottleStore;
use authtoken_sql::SqlStore;
use poem::EndpointExt as _;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};

use crate::access::AccessLog;
use crate::listener::body::BodyDeadline;
use crate::listener::{self, LimitedAcceptor};
use crate::metrics::{self, Metrics, MetricsEndpoint, WithMetrics};
use crate::settings::{MetricsAt, Resolved, ThrottleStoreKind, masked_url};

/// The service, the store it runs on, the outbox delivery, and the metrics they count into.
#[derive(Debug, Clone)]
pub struct Wired {
    pub service: AuthService,
    pub store: Arc<SqlStore>,
    pub delivery: Delivery,
    pub metrics: Arc<Metrics>,
    /// The hasher the service checks passwords with.
    pub hasher: Arc<Argon2Hasher>,
}

/// The password hasher and the mailer of `settings`: everything `wire` builds besides the database, so that
/// `authtoken config check` finds what `serve` would refuse without opening the database.
pub fn hasher_and_mailer(settings: &Resolved) -> anyhow::Result<(Argon2id, Arc<dyn Mailer>)> {
    let argon2 = Argon2id::new(settings.argon2).context(
        "invalid password hash settings (password_hash_memory_kib, password_hash_iterations, password_hash_parallelism)",
    )?;
    let mailer = authtoken_mail::mailer(&settings.mail.url, &settings.mail.settings)
        .context("invalid mail settings (mail_url, registration_email_from, mail_tls_ca_file)")?;
    Ok((argon2, mailer))
}

/// How many of the newest users' imported hashes start-up reads to find the costliest kind.
const IMPORTED_HASH_SAMPLE: u32 = 1000;

/// Opens the database (applying migrations) and builds the service.
pub async fn wire(settings: &Resolved) -> anyhow::Result<Wired> {
    let (argon2, mailer) = hasher_and_mailer(settings)?;
    let store = Arc::new(SqlStore::open(&settings.database).await.map_err(|e| {
        anyhow::anyhow!("cannot open the database of `database_url` ({}): {e}", masked_url(&settings.database.url))
    })?);
    // Hashes imported from Django that no login has replaced yet: every check then costs as much as the costliest.
    let imported =
        store.legacy_password_hashes(IMPORTED_HASH_SAMPLE).await.context("cannot read the password hashes")?;
    let metrics = Arc::new(Metrics::new().context("cannot register the metrics")?);
    let hasher = Arc::new(
        Argon2Hasher::new(argon2, settings.hash_concurrency)
            .with_imported_hashes(&imported)
            .with_queue_wait_observer(metrics.hash_wait_observer()),
    );
    let ports = Ports {
        tokens: store.clone(),
        users: store.clone(),
        events: store.clone(),
        hasher: hasher.clone(),
        clock: Arc::new(SystemClock),
    };
    let mut service = AuthService::new(ports, settings.core.clone());
    if let Some(reset) = &settings.reset {
        service = service.with_password_reset(store.clone(), reset.clone());
    }
    if let Some(notice) = &settings.notice {
        service = service.with_password_notice(notice.clone());
    }
    if let Some(confirmation) = &settings.confirmation {
        service = service.with_confirmation(store.clone(), confirmation.clone());
    }
    if let Some(throttles) = &settings.throttles {
        let counts: Arc<dyn ThrottleStore> = match throttles.store {
            ThrottleStoreKind::Memory => Arc::new(MemoryThrottleStore::default()),
            ThrottleStoreKind::Database => store.clone(),
        };
        service = service.with_throttles(counts, throttles.limits);
    }
    let delivery = Delivery::new(service.clone(), store.clone(), mailer, settings.mail.retry);
    Ok(Wired { service, store, delivery, metrics, hasher })
}

/// Serves HTTP until `shutdown` completes, purging expired sessions in the background.
///
/// Connections are bounded in number and time (see [`listener`]); the open-files limit is raised first.
pub async fn serve(settings: &Resolved, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let open_files = listener::raise_open_files_limit();
    // The address first: when it is taken, nothing else is worth doing, and the database is left as it was.
    let tcp =
        TcpListener::bind(settings.bind).into_acceptor().await.map_err(|e| bind_failure("bind", settings.bind, &e))?;
    let metrics_tcp = match settings.metrics {
        MetricsAt::Own(addr) => {
            Some(TcpListener::bind(addr).into_acceptor().await.map_err(|e| bind_failure("metrics_bind", addr, &e))?)
        }
        MetricsAt::Off | MetricsAt::Api => None,
    };
    tracing::info!("starting authtoken {}: {}", env!("CARGO_PKG_VERSION"), settings.summary());
    let wired = wire(settings).await?;
    let limits = settings.connections;
    let document =
        authtoken_http::openapi_json(&settings.http, &settings.core, authtoken_http::Features::of(&wired.service));
    let api = authtoken_http::app(wired.service.clone(), settings.http.clone())
        .with(BodyDeadline { timeout: limits.body_timeout });
    let access = match settings.metrics {
        MetricsAt::Off => AccessLog::from_document(&document),
        MetricsAt::Api | MetricsAt::Own(_) => AccessLog::from_document(&document).with_metrics(wired.metrics.clone()),
    };
    let scrape = MetricsEndpoint { metrics: wired.metrics.clone(), store: wired.store.clone() };
    let app = match settings.metrics {
        MetricsAt::Api => WithMetrics { api, metrics: scrape.clone() }.with(access.clone()).boxed(),
        MetricsAt::Off | MetricsAt::Own(_) => api.with(access.clone()).boxed(),
    };
    // On an address of its own, /metrics is served alone, without the API's limits: only scrapers reach it.
    let metrics_server = metrics_tcp.map(|acceptor| {
        for addr in acceptor.local_addr().iter().filter_map(|addr| addr.as_socket_addr().copied()) {
            tracing::info!("metrics on http://{addr}{}", metrics::PATH);
        }
        let endpoint = poem::Route::new().at(metrics::PATH, scrape).with(access);
        // The API's limits on time and size, and few connections: a scraper needs one.
        let acceptor = LimitedAcceptor::new(acceptor, limits, metrics::MAX_CONNECTIONS);
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(endpoint))
    });
    let max_connections = listener::max_connections(limits.max_connections, open_files);
    tracing::info!(max_connections, open_files, "connection limits");
    let acceptor = LimitedAcceptor::new(tcp, limits, max_connections);
    for addr in acceptor.local_addr().iter().filter_map(|addr| addr.as_socket_addr().copied()) {
        tracing::info!("listening on http://{addr}");
    }
    let purge = tokio::spawn(purge_expired(wired.clone(), settings.purge_interval));
    let outbox = tokio::spawn(deliver_outbox(wired.delivery.clone(), settings.mail.poll_interval));
    let served = poem::Server::new_with_acceptor(acceptor)
        .http2_max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(10)))
        .await;
    purge.abort();
    outbox.abort();
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    served.context("the HTTP server failed")
}

/// Why the server cannot listen on `bind` (the setting `name`), and what to do.
fn bind_failure(name: &str, bind: std::net::SocketAddr, e: &std::io::Error) -> anyhow::Error {
    let advice = match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "another process listens there: stop it, or set `{name}` to another address (AUTHTOKEN_{})",
            name.to_ascii_uppercase()
        ),
        std::io::ErrorKind::PermissionDenied => {
            "this user may not listen there (ports below 1024 need privileges): choose a port from 1024 up".to_owned()
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "this machine has no such address: use 127.0.0.1, 0.0.0.0 or one of its own addresses".to_owned()
        }
        _ => e.to_string(),
    };
    anyhow::anyhow!("cannot listen on {bind} (setting `{name}`): {advice}")
}

/// Deletes expired (and, with `auth_token_idle_timeout`, idle) sessions, expired confirmation and reset links,
/// throttle keys whose time has passed, and events older than `auth_event_retention`; returns how many sessions and
/// how many links.
pub async fn purge_once(wired: &Wired) -> anyhow::Result<(u64, u64)> {
    let sessions = wired.service.purge_sessions().await?;
    let links = wired.service.purge_expired_confirmations().await? + wired.service.purge_expired_resets().await?;
    let keys = wired.service.purge_throttles().await?;
    tracing::debug!(keys, "purged throttle keys whose time has passed");
    let events = wired.service.purge_events().await?;
    if events > 0 {
        tracing::info!(events, "purged events past auth_event_retention");
    }
    Ok((sessions, links))
}

/// Purges every `interval`; a failure is logged and retried at the next tick.
async fn purge_expired(wired: Wired, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        match purge_once(&wired).await {
            Ok((0, 0)) => {}
            Ok((sessions, links)) => tracing::info!(sessions, links, "purged expired sessions and links"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "purging expired sessions failed"),
        }
    }
}

/// Delivers the outbox every `interval`, at once again while there was work; survives every failure.
async fn deliver_outbox(delivery: Delivery, interval: Duration) {
    loop {
        match delivery.run_once().await {
            Ok(report) => {
                if report.sent > 0 {
                    tracing::info!(sent = report.sent, "outbox mail delivered");
                }
                if report.left > 0 {
                    tracing::warn!(
                        left = report.left,
                        "outbox mail left for a later round: the mail server is slow, and their lease ran short"
                    );
                }
                for id in &report.void {
                    tracing::info!(outbox_id = id.0, "outbox mail no longer needed; see `authtoken outbox`");
                }
                for (id, attempts, gave_up) in &report.failures {
                    if *gave_up {
                        tracing::error!(
                            outbox_id = id.0,
                            attempts,
                            "outbox mail failed for good; see `authtoken outbox`"
                        );
                    } else {
                        tracing::warn!(outbox_id = id.0, attempts, "outbox mail not delivered; it will be retried");
                    }
                }
                if report.sent > 0 && report.failures.is_empty() {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = &e as &dyn std::error::Error, "the outbox cannot be read; retrying"),
        }
        tokio::time::sleep(interval).await;
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
                tracing::warn!(error = &e as &dyn std::error::Error, "cannot listen for SIGTERM");
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

#[cfg(test)]
mod tests {
    use authtoken_core::event::{AuditEvent, EventKind};
    use authtoken_core::ports::UserRepo as _;
    use authtoken_core::session::ClientInfo;
    use authtoken_core::user::{NewUser, PasswordHash, Username};

    use super::*;
    use crate::settings::Settings;

    #[tokio::test]
    async fn the_hasher_spends_the_work_of_stored_django_hashes_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::defaults();
        settings.database_url = format!("sqlite://{}", dir.path().join("a.sqlite3").display());
        let settings = settings.resolve().unwrap();
        let before = wire(&settings).await.unwrap();
        let name = Username::parse("imported").unwrap();
        let user = NewUser {
            username_key: name.key(false),
            username: name,
            password_hash: PasswordHash::new("pbkdf2_sha256$600000$salt$aGFzaGhhc2hoYXNoaGFzaA==".into()),
            email: None,
            email_confirmed: false,
            is_active: true,
            joined_at: authtoken_core::Timestamp::from_millis(0),
        };
        let event = AuditEvent::new(EventKind::Registered, user.joined_at, None, None, &ClientInfo::default());
        before.store.create(&user, &event).await.unwrap();

        let after = wire(&settings).await.unwrap();

        assert!(!before.hasher.checks_imported_hashes(), "no Django hash was stored yet");
        assert!(after.hasher.checks_imported_hashes());
    }
}
