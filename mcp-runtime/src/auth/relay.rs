//! Direct mode: the provider's authorization server metadata, relayed at this server's origin
//! for clients that look for it beside the resource (`/.well-known/oauth-authorization-server`,
//! its path-inserted form, and `openid-configuration`). Fetched on first use and cached, never
//! fetched per request; a stale copy is served while the provider is unreachable, and without
//! any copy the answer is a 502 that says what failed.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde_json::{Value, json};

use super::http::cors;
use super::metadata::split_origin;

/// How long a relayed document is served before it is fetched again.
pub const RELAY_TTL: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Doc {
    /// RFC 8414.
    OAuth,
    /// OpenID Connect Discovery.
    Oidc,
}

struct Cached {
    body: Bytes,
    fetched: Instant,
}

/// The relay of one provider's metadata.
pub struct MetadataRelay {
    issuer: String,
    client: reqwest::Client,
    strip_registration: bool,
    cache: Mutex<[Option<Cached>; 2]>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for MetadataRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataRelay")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl MetadataRelay {
    /// Relays `issuer`'s metadata. With `strip_registration`, `registration_endpoint` is
    /// removed (a pre-registered client: dynamic registration is not offered).
    pub fn new(
        issuer: impl Into<String>,
        client: reqwest::Client,
        strip_registration: bool,
    ) -> Self {
        MetadataRelay {
            issuer: issuer.into(),
            client,
            strip_registration,
            cache: Mutex::new([None, None]),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The issuer's path (`/realms/x`), empty when it has none.
    pub(crate) fn issuer_path(&self) -> &str {
        split_origin(&self.issuer).1.trim_end_matches('/')
    }

    fn upstream(&self, doc: Doc) -> [String; 2] {
        let base = self.issuer.trim_end_matches('/');
        let origin = split_origin(base).0;
        let rfc8414 = format!(
            "{origin}/.well-known/oauth-authorization-server{}",
            self.issuer_path()
        );
        let oidc = format!("{base}/.well-known/openid-configuration");
        match doc {
            Doc::OAuth => [rfc8414, oidc],
            Doc::Oidc => [oidc, rfc8414],
        }
    }

    fn slot(doc: Doc) -> usize {
        match doc {
            Doc::OAuth => 0,
            Doc::Oidc => 1,
        }
    }

    fn cached(&self, doc: Doc, fresh_only: bool) -> Option<Bytes> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache[Self::slot(doc)]
            .as_ref()
            .filter(|c| !fresh_only || c.fetched.elapsed() < RELAY_TTL)
            .map(|c| c.body.clone())
    }

    async fn fetch(&self, doc: Doc) -> Result<Bytes, String> {
        let mut last = String::new();
        for url in self.upstream(doc) {
            match super::outgoing::send(self.client.get(&url).header("accept", "application/json"))
                .await
            {
                Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                    Ok(Value::Object(mut m)) => {
                        if self.strip_registration {
                            m.remove("registration_endpoint");
                        }
                        return Ok(Bytes::from(Value::Object(m).to_string()));
                    }
                    Ok(_) => last = format!("{url} is not a JSON object"),
                    Err(e) => last = format!("{url} is not JSON: {e}"),
                },
                Ok(r) => last = format!("{url} answered HTTP {}", r.status()),
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(last)
    }

    /// The document, from the cache or fetched (single-flight).
    async fn get(&self, doc: Doc) -> Result<Bytes, String> {
        if let Some(body) = self.cached(doc, true) {
            return Ok(body);
        }
        let _guard = self.refresh.lock().await;
        if let Some(body) = self.cached(doc, true) {
            return Ok(body);
        }
        match self.fetch(doc).await {
            Ok(body) => {
                self.cache
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)[Self::slot(doc)] =
                    Some(Cached {
                        body: body.clone(),
                        fetched: Instant::now(),
                    });
                Ok(body)
            }
            Err(e) => match self.cached(doc, false) {
                Some(stale) => {
                    tracing::warn!(target: "mcp_runtime::auth", "serving cached authorization server metadata: {e}");
                    Ok(stale)
                }
                None => Err(e),
            },
        }
    }

    async fn respond(&self, doc: Doc) -> HttpResponse {
        let resp = match self.get(doc).await {
            Ok(body) => HttpResponse::Ok()
                .content_type("application/json")
                .insert_header((header::CACHE_CONTROL, "public, max-age=600"))
                .body(body),
            Err(e) => {
                tracing::warn!(target: "mcp_runtime::auth", "cannot relay authorization server metadata: {e}");
                HttpResponse::build(StatusCode::BAD_GATEWAY)
                    .content_type("application/json")
                    .body(
                        json!({
                            "error": "bad_gateway",
                            "error_description": format!(
                                "the authorization server's metadata could not be fetched ({e}); \
                                 clients can use {} directly",
                                self.issuer
                            ),
                        })
                        .to_string(),
                    )
            }
        };
        cors(resp)
    }

    /// Mounts the relayed documents.
    pub(crate) fn configure(self: &std::sync::Arc<Self>, cfg: &mut web::ServiceConfig) {
        let path = self.issuer_path();
        let mut routes = vec![
            (
                "/.well-known/oauth-authorization-server".to_owned(),
                Doc::OAuth,
            ),
            ("/.well-known/openid-configuration".to_owned(), Doc::Oidc),
        ];
        if !path.is_empty() {
            routes.push((
                format!("/.well-known/oauth-authorization-server{path}"),
                Doc::OAuth,
            ));
            routes.push((
                format!("/.well-known/openid-configuration{path}"),
                Doc::Oidc,
            ));
            routes.push((
                format!("{path}/.well-known/openid-configuration"),
                Doc::Oidc,
            ));
        }
        for (route, doc) in routes {
            let this = self.clone();
            cfg.service(
                web::resource(route)
                    .route(web::get().to(move |_req: HttpRequest| {
                        let this = this.clone();
                        async move { this.respond(doc).await }
                    }))
                    .route(
                        web::method(actix_web::http::Method::OPTIONS)
                            .to(|| async { cors(HttpResponse::NoContent().finish()) }),
                    ),
            );
        }
    }
}
