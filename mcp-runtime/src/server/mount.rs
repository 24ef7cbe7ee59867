//! Mounting the server into an actix-web app: the endpoint (with its CORS and request span),
//! the app state and extra routes, the metrics endpoint, and the discovery documents at the
//! root.

use actix_web::web;

use crate::server::{McpServer, http};

impl McpServer {
    /// Mounts the whole server at the root of an actix-web app: the MCP endpoint, the
    /// discovery documents, the embedded authorization server (if any), the app state and the
    /// extra routes. `App::new().configure(|cfg| server.configure(cfg))`.
    ///
    /// This is [`configure_endpoint`](Self::configure_endpoint) plus
    /// [`configure_discovery`](Self::configure_discovery); use those two to put the endpoint
    /// inside a `web::scope` while the discovery documents stay at the root, where clients
    /// look for them (RFC 9728 §3, RFC 8414 §3).
    ///
    /// When you run your own `HttpServer`, set `.h1_allow_half_closed(false)` so that a client
    /// that disconnects cancels its tool call (the tool's future is dropped), and choose
    /// `.shutdown_timeout(secs)`: on shutdown, requests in flight get that long to finish
    /// (open GET streams are closed then). With OAuth, set the public URL (`MCP_URL` or
    /// [`McpServerBuilder::public_url`](crate::McpServerBuilder::public_url)): a mounted server never learns its address.
    ///
    /// ```no_run
    /// # use mcp_runtime::prelude::*;
    /// # use mcp_runtime::actix_web::{App, HttpServer, web};
    /// # #[mcp_tool] async fn add(a: i64, b: i64) -> i64 { a + b }
    /// # async fn run() -> std::io::Result<()> {
    /// let mcp = McpServer::builder().tools(tools![add]).build().expect("valid server");
    /// HttpServer::new(move || {
    ///     let mcp = mcp.clone();
    ///     App::new()
    ///         .route("/health", web::get().to(|| async { "ok" }))
    ///         .configure(|cfg| mcp.configure_discovery(cfg))
    ///         .service(web::scope("/api").configure(|cfg| mcp.configure_endpoint(cfg)))
    /// })
    /// .h1_allow_half_closed(false)
    /// .shutdown_timeout(5)
    /// .bind(("127.0.0.1", 3000))?
    /// .run()
    /// .await
    /// # }
    /// ```
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        self.configure_endpoint(cfg);
        self.configure_discovery(cfg);
        self.configure_health(cfg);
    }

    /// Mounts the health route ([`health_path`](crate::McpServerBuilder::health_path),
    /// `/healthz` by default): `GET` and `HEAD` answer 200 `{"status":"ok"}`, with no
    /// authentication and no `Host` check. Part of [`configure`](Self::configure).
    pub fn configure_health(&self, cfg: &mut web::ServiceConfig) {
        if let Some(path) = &self.health {
            cfg.service(
                web::resource(&**path)
                    .route(web::get().to(health))
                    .route(web::head().to(health)),
            );
        }
    }

    /// Mounts the MCP endpoint at [`path`](Self::path) (relative to the enclosing scope, if
    /// any), with the app state and the extra routes; see [`configure`](Self::configure).
    ///
    /// Two servers mounted in one app keep their own state: each endpoint finds its own
    /// server. The `Auth` extractor of extra routes uses the server configured last in their
    /// scope.
    pub fn configure_endpoint(&self, cfg: &mut web::ServiceConfig) {
        let data = web::Data::from(self.inner.clone());
        #[cfg(feature = "oauth")]
        if let Some(auth) = &self.inner.auth
            && auth.resource.get().is_none()
            && !self
                .inner
                .mount_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::error!(
                target: "mcp_runtime::server",
                "the MCP server `{}` is mounted with OAuth but without a public URL, so it cannot \
                 check tokens' audience: set MCP_URL (or `public_url`) to the endpoint's URL",
                self.inner.info.implementation.name
            );
        }
        cfg.app_data(data.clone());
        // The user's routes authenticate with the server's OAuth (`Auth`, `bearer_auth`).
        #[cfg(feature = "oauth")]
        if let Some(auth) = &self.inner.auth {
            cfg.app_data(web::Data::from(auth.clone()));
        }
        #[cfg(feature = "metrics")]
        let timed = self.inner.metrics.is_some();
        cfg.service(
            web::resource(&*self.path)
                .app_data(data)
                .wrap_fn(move |req, srv| {
                    use actix_web::dev::Service as _;
                    use tracing::Instrument as _;
                    // Browser clients: CORS for origins the endpoint accepts.
                    let origin = http::cors_origin(req.request());
                    let preflight = req.method() == actix_web::http::Method::OPTIONS;
                    #[cfg(feature = "metrics")]
                    if timed {
                        use actix_web::HttpMessage as _;
                        req.extensions_mut()
                            .insert(super::observe::Started(std::time::Instant::now()));
                    }
                    // One span per request; the handler (a boxed future) runs inside it (or
                    // enters it itself once the body is read, when the caller's trace may be
                    // named there: feature `opentelemetry`).
                    let span = http::request_span(req.request());
                    #[cfg(feature = "opentelemetry")]
                    let deferred = super::observe::adopt_headers(&req, &span);
                    #[cfg(not(feature = "opentelemetry"))]
                    let deferred = false;
                    let fut = if deferred {
                        srv.call(req).instrument(tracing::Span::none())
                    } else {
                        srv.call(req).instrument(span.clone())
                    };
                    async move {
                        let mut res = fut.await?;
                        super::observe::note_status(&span, res.status().as_u16());
                        #[cfg(feature = "metrics")]
                        super::observe::count_response(&res);
                        if let Some(origin) = origin {
                            http::add_cors(res.headers_mut(), origin, preflight);
                        }
                        Ok(res)
                    }
                })
                .route(web::post().to(http::post))
                .route(web::get().to(http::get))
                .route(web::delete().to(http::delete))
                .default_service(web::to(http::other)),
        );
        #[cfg(feature = "metrics")]
        if let (Some(path), Some(metrics)) = (&self.inner.metrics_path, &self.inner.metrics) {
            let metrics = metrics.clone();
            cfg.service(
                web::resource(path.as_str())
                    .app_data(web::Data::from(self.inner.clone()))
                    .route(
                        web::get()
                            .to(move |req| super::observe::metrics_endpoint(req, metrics.clone())),
                    ),
            );
        }
        for f in self.configure.iter() {
            f(cfg);
        }
    }

    /// Mounts, at the root of the app, the discovery documents (RFC 9728 protected resource
    /// metadata at `/.well-known/oauth-protected-resource` and its path-suffixed form for the
    /// public URL's path) and the authorization server's metadata and endpoints (the embedded
    /// development server's, or the provider's relayed metadata). Nothing without OAuth.
    #[cfg_attr(not(feature = "oauth"), allow(unused_variables))]
    pub fn configure_discovery(&self, cfg: &mut web::ServiceConfig) {
        #[cfg(feature = "oauth")]
        self.configure_oauth_discovery(cfg);
    }

    #[cfg(feature = "oauth")]
    fn configure_oauth_discovery(&self, cfg: &mut web::ServiceConfig) {
        let Some(auth) = &self.inner.auth else {
            return;
        };
        let data = web::Data::from(self.inner.clone());
        #[cfg(feature = "authorization-server")]
        let dev = auth.embedded.as_ref();
        #[cfg(not(feature = "authorization-server"))]
        let dev: Option<&std::convert::Infallible> = None;
        if let Some(dev) = dev {
            #[cfg(feature = "authorization-server")]
            dev.clone().configure(cfg);
            #[cfg(not(feature = "authorization-server"))]
            match *dev {}
        } else if let Some(relay) = &auth.relay {
            relay.configure(cfg);
        } else if auth.as_metadata.is_some() {
            cfg.service(
                web::resource("/.well-known/oauth-authorization-server")
                    .app_data(data.clone())
                    .route(web::get().to(http::authorization_server_metadata))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(http::preflight)),
            );
        }
        // RFC 9728: the root document and the one for the endpoint's public path.
        let public_path = self
            .inner
            .public_url
            .as_ref()
            .map_or(&*self.path, |p| p.path.as_str());
        let suffixed = match public_path {
            "/" | "" => None,
            p => Some(format!("/.well-known/oauth-protected-resource{p}")),
        };
        for path in
            std::iter::once("/.well-known/oauth-protected-resource").chain(suffixed.as_deref())
        {
            cfg.service(
                web::resource(path)
                    .app_data(data.clone())
                    .route(web::get().to(http::resource_metadata))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(http::preflight)),
            );
        }
    }
}

/// The health route's answer.
async fn health() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}
