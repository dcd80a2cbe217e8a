//! `/metrics` in the Prometheus text format (version 0.0.4), written by the `prometheus` crate.
//!
//! Counted as requests are served (by [`crate::access`], which knows each request's route template):
//! requests by method, route template and status, their durations, logins by outcome, and throttled requests by
//! route. Told by the hasher: how long each password check waited for a hashing thread. Read at each scrape: the
//! outbox's pending and failed mail and the age of the oldest pending one, and the database pool's connections.
//! No label ever holds a path, a name or an address: routes are the document's templates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authtoken_argon2::QueueWaitObserver;
use authtoken_core::ports::{Clock as _, SystemClock};
use authtoken_sql::SqlStore;
use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Request, Response};
use poem_openapi::OperationId;
use prometheus::{
    Gauge, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The operation id `/metrics` answers under, so that the access log and the metrics name its route.
pub const OPERATION: &str = "metrics";
/// The path of the metrics.
pub const PATH: &str = "/metrics";
/// Connections the metrics' own address (`metrics_bind`) holds at once.
pub const MAX_CONNECTIONS: usize = 16;
/// How long the gauges read from the database are reused: scrapes more often than this, or a flood of requests to
/// `/metrics`, cost the database nothing more.
const GAUGES_FOR: Duration = Duration::from_secs(5);

/// The service's metrics, registered once at start-up.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    logins: IntCounterVec,
    throttled: IntCounterVec,
    hash_wait: Histogram,
    outbox: IntGaugeVec,
    outbox_oldest: Gauge,
    database_up: IntGauge,
    connections: IntGaugeVec,
    max_connections: IntGauge,
    /// When the outbox gauges were last read, so that they are read at most every [`GAUGES_FOR`].
    read_at: tokio::sync::Mutex<Option<Instant>>,
}

impl Metrics {
    /// Registers every metric; a name that does not register is a mistake in this file, found by its tests.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("authtoken".to_owned()), None)?;
        let seconds = |name: &str, help: &str| HistogramOpts::new(name, help);
        let metrics = Self {
            requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by method, route template and status"),
                &["method", "route", "status"],
            )?,
            durations: HistogramVec::new(
                seconds("http_request_duration_seconds", "Time from a request's head to its answer, by route"),
                &["method", "route"],
            )?,
            logins: IntCounterVec::new(
                Opts::new(
                    "logins_total",
                    "Logins by outcome: success, invalid_credentials, invalid_request, throttled, error",
                ),
                &["outcome"],
            )?,
            throttled: IntCounterVec::new(
                Opts::new("throttled_requests_total", "Requests refused with 429 by the throttles, by route template"),
                &["route"],
            )?,
            hash_wait: Histogram::with_opts(
                seconds(
                    "password_hash_queue_wait_seconds",
                    "Time a password check or hash waited for a hashing thread",
                )
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            )?,
            outbox: IntGaugeVec::new(
                Opts::new("outbox_mail", "Mail in the outbox that is not sent, by state"),
                &["state"],
            )?,
            outbox_oldest: Gauge::new(
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest pending mail in the outbox; 0 when none is pending",
            )?,
            database_up: IntGauge::new("database_up", "1 when the database answered this scrape's query, else 0")?,
            connections: IntGaugeVec::new(
                Opts::new("database_connections", "Connections of the stores' pool, by state: in_use, idle"),
                &["state"],
            )?,
            max_connections: IntGauge::new("database_max_connections", "The most connections the pool opens")?,
            read_at: tokio::sync::Mutex::new(None),
            registry,
        };
        metrics.register()?;
        Ok(metrics)
    }

    fn register(&self) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(self.requests.clone()))?;
        self.registry.register(Box::new(self.durations.clone()))?;
        self.registry.register(Box::new(self.logins.clone()))?;
        self.registry.register(Box::new(self.throttled.clone()))?;
        self.registry.register(Box::new(self.hash_wait.clone()))?;
        self.registry.register(Box::new(self.outbox.clone()))?;
        self.registry.register(Box::new(self.outbox_oldest.clone()))?;
        self.registry.register(Box::new(self.database_up.clone()))?;
        self.registry.register(Box::new(self.connections.clone()))?;
        self.registry.register(Box::new(self.max_connections.clone()))
    }

    /// What the hasher calls with each job's wait for a thread.
    pub fn hash_wait_observer(&self) -> QueueWaitObserver {
        let histogram = self.hash_wait.clone();
        Arc::new(move |wait: Duration| histogram.observe(wait.as_secs_f64()))
    }

    /// Counts one answered request: `operation` is its OpenAPI operation id and `route` its template (`None` when it
    /// matched no operation).
    pub fn record(
        &self,
        method: &Method,
        operation: Option<&str>,
        route: Option<&str>,
        status: StatusCode,
        took: Duration,
    ) {
        let (method, route) = (method_label(method), route.unwrap_or("unmatched"));
        self.requests.with_label_values(&[method, route, status.as_str()]).inc();
        self.durations.with_label_values(&[method, route]).observe(took.as_secs_f64());
        let status = status.as_u16();
        if status == 429 {
            self.throttled.with_label_values(&[route]).inc();
        }
        if operation == Some("login") {
            let outcome = match status {
                200..=299 => "success",
                401 => "invalid_credentials",
                429 => "throttled",
                400..=499 => "invalid_request",
                _ => "error",
            };
            self.logins.with_label_values(&[outcome]).inc();
        }
    }

    /// Reads the store's gauges (at most every 5 seconds) and writes every metric in the text format.
    pub async fn render(&self, store: &SqlStore) -> String {
        {
            // Held while reading, so that scrapes at once make one query.
            let mut read_at = self.read_at.lock().await;
            if read_at.is_none_or(|at| at.elapsed() >= GAUGES_FOR) {
                self.read_outbox(store).await;
                *read_at = Some(Instant::now());
            }
        }
        let pool = store.pool_gauges();
        self.connections.with_label_values(&["in_use"]).set(i64::from(pool.open.saturating_sub(pool.idle)));
        self.connections.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.max_connections.set(i64::from(pool.max));
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_else(|e| {
            tracing::error!(error = &e as &dyn std::error::Error, "the metrics cannot be written");
            String::new()
        })
    }

    /// The outbox's gauges, and whether the database answered; without an answer the outbox series are left out
    /// rather than shown stale.
    async fn read_outbox(&self, store: &SqlStore) {
        match store.outbox_gauges().await {
            Ok(outbox) => {
                self.database_up.set(1);
                self.outbox.with_label_values(&["pending"]).set(gauge(outbox.pending));
                self.outbox.with_label_values(&["failed"]).set(gauge(outbox.failed));
                let age = outbox.oldest_pending_at.map_or(0, |at| SystemClock.now().as_millis() - at.as_millis());
                #[allow(clippy::cast_precision_loss, reason = "milliseconds of an age: far below 2^52")]
                self.outbox_oldest.set(age.max(0) as f64 / 1000.0);
            }
            Err(e) => {
                tracing::warn!(error = &e as &dyn std::error::Error, "a metrics scrape could not read the outbox");
                self.database_up.set(0);
                self.outbox.reset();
            }
        }
    }
}

fn gauge(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// The method as a label; methods outside HTTP's own are one label, so that no client can make new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: the metrics; any other method is answered 405.
#[derive(Debug, Clone)]
pub struct MetricsEndpoint {
    pub metrics: Arc<Metrics>,
    pub store: Arc<SqlStore>,
}

impl Endpoint for MetricsEndpoint {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let response = if matches!(*request.method(), Method::GET | Method::HEAD) {
            Response::builder()
                .content_type(prometheus::TEXT_FORMAT)
                .header(header::CACHE_CONTROL, "no-store")
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .body(self.metrics.render(&self.store).await)
        } else {
            Response::builder().status(StatusCode::METHOD_NOT_ALLOWED).header(header::ALLOW, "GET, HEAD").finish()
        };
        let mut response = response;
        response.set_data(OperationId(OPERATION));
        Ok(response)
    }
}

/// The API with `/metrics` beside it, on one address.
#[derive(Debug)]
pub struct WithMetrics<E> {
    pub api: E,
    pub metrics: MetricsEndpoint,
}

impl<E: Endpoint> Endpoint for WithMetrics<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.uri().path() == PATH {
            return self.metrics.call(request).await;
        }
        self.api.call(request).await.map(poem::IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_logins_and_throttles_are_counted_by_route_and_outcome() {
        let metrics = Metrics::new().unwrap();
        let ms = Duration::from_millis(3);

        metrics.record(&Method::POST, Some("login"), Some("/auth/login"), StatusCode::from_u16(200).unwrap(), ms);
        metrics.record(&Method::POST, Some("login"), Some("/auth/login"), StatusCode::from_u16(401).unwrap(), ms);
        metrics.record(&Method::POST, Some("login"), Some("/auth/login"), StatusCode::from_u16(429).unwrap(), ms);
        metrics.record(&Method::GET, None, None, StatusCode::from_u16(404).unwrap(), ms);
        metrics.record(&Method::from_bytes(b"BREW").unwrap(), None, None, StatusCode::from_u16(405).unwrap(), ms);

        let text = TextEncoder::new().encode_to_string(&metrics.registry.gather()).unwrap();
        for line in [
            r#"authtoken_http_requests_total{method="POST",route="/auth/login",status="200"} 1"#,
            r#"authtoken_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
            r#"authtoken_http_requests_total{method="other",route="unmatched",status="405"} 1"#,
            r#"authtoken_logins_total{outcome="success"} 1"#,
            r#"authtoken_logins_total{outcome="invalid_credentials"} 1"#,
            r#"authtoken_logins_total{outcome="throttled"} 1"#,
            r#"authtoken_throttled_requests_total{route="/auth/login"} 1"#,
            r#"authtoken_http_request_duration_seconds_count{method="POST",route="/auth/login"} 3"#,
        ] {
            assert!(text.contains(line), "{line} is missing from:\n{text}");
        }
    }

    #[test]
    fn the_hashers_waits_go_into_the_histogram() {
        let metrics = Metrics::new().unwrap();
        let observe = metrics.hash_wait_observer();

        observe(Duration::from_millis(2));
        observe(Duration::from_millis(300));

        let text = TextEncoder::new().encode_to_string(&metrics.registry.gather()).unwrap();
        assert!(text.contains("authtoken_password_hash_queue_wait_seconds_count 2"), "{text}");
        assert!(text.contains(r#"authtoken_password_hash_queue_wait_seconds_bucket{le="0.0025"} 1"#), "{text}");
    }
}
