//! The access log: one line per request, in a span that gives every line logged while it is served the request's id.
//!
//! The line holds the method, the route's template as the OpenAPI document writes it (`/auth/register/confirm/{token}`,
//! so no path that holds a token is ever logged), the status and the duration; never a header value or a body. A
//! request that matched no operation (a 404, the documents) is logged with the route `-`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use poem::{Endpoint, IntoResponse as _, Middleware, Request, Response};
use poem_openapi::OperationId;
use rand::RngExt as _;
use tracing::Instrument as _;

use crate::metrics::Metrics;

/// The middleware; `templates` maps each operation id to its path template.
#[derive(Debug, Clone)]
pub struct AccessLog {
    templates: Arc<HashMap<String, String>>,
    metrics: Option<Arc<Metrics>>,
}

impl AccessLog {
    /// The templates of the operations of an OpenAPI document (JSON), by operation id.
    pub fn from_document(document: &str) -> Self {
        let mut templates = HashMap::new();
        if let Ok(document) = serde_json::from_str::<serde_json::Value>(document) {
            for (path, operations) in document["paths"].as_object().into_iter().flatten() {
                for operation in operations.as_object().into_iter().flatten().map(|(_, operation)| operation) {
                    if let Some(id) = operation["operationId"].as_str() {
                        templates.insert(id.to_owned(), path.clone());
                    }
                }
            }
        }
        Self { templates: Arc::new(templates), metrics: None }
    }

    /// Also counts each request into `metrics`, and names `/metrics`'s own route.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        Arc::make_mut(&mut self.templates)
            .insert(crate::metrics::OPERATION.to_owned(), crate::metrics::PATH.to_owned());
        self.metrics = Some(metrics);
        self
    }
}

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AccessLogEndpoint { inner, templates: Arc::clone(&self.templates), metrics: self.metrics.clone() }
    }
}

/// An endpoint whose requests are logged.
#[derive(Debug)]
pub struct AccessLogEndpoint<E> {
    inner: E,
    templates: Arc<HashMap<String, String>>,
    metrics: Option<Arc<Metrics>>,
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let span = tracing::info_span!("request", id = tracing::field::Empty);
        // No id is drawn for a request nobody logs.
        if !span.is_disabled() {
            span.record("id", format!("{:016x}", rand::rng().random::<u64>()));
        }
        let method = request.method().clone();
        let started = Instant::now();
        let response = match self.inner.call(request).instrument(span.clone()).await {
            Ok(output) => output.into_response(),
            Err(e) => e.into_response(),
        };
        let operation = response.data::<OperationId>().map(|operation| operation.0);
        // The fields are worked out only when the line is logged or counted.
        let template = || operation.and_then(|operation| self.templates.get(operation)).map(String::as_str);
        let route = || template().unwrap_or("-");
        if let Some(metrics) = &self.metrics {
            metrics.record(&method, operation, template(), response.status(), started.elapsed());
        }
        span.in_scope(|| {
            tracing::info!(
                target: "access",
                method = %method,
                route = route(),
                status = response.status().as_u16(),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        });
        Ok(response)
    }
}
