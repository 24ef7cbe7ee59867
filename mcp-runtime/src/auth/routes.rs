//! Bearer authentication for your own actix-web routes (mcp-use's
//! `createBearerAuthMiddleware`), with the MCP server's verifier, cache and challenges.
//!
//! - Take [`Auth`] as a handler parameter: the route then requires a valid bearer token.
//! - Or wrap a scope with [`bearer_auth`]: every route in it requires one, and handlers can
//!   still take `Auth` (no second verification).
//! - A [`ScopeError`] from `auth.require_scope(&[...])?` answers 403 `insufficient_scope`.
//!
//! ```no_run
//! use mcp_runtime::actix_web::{middleware::from_fn, web, HttpResponse};
//! use mcp_runtime::auth::{Auth, ScopeError, routes::bearer_auth};
//! use mcp_runtime::McpServer;
//!
//! async fn me(auth: Auth) -> HttpResponse {
//!     HttpResponse::Ok().body(auth.user.user_id.clone())
//! }
//! async fn purge(auth: Auth) -> Result<HttpResponse, ScopeError> {
//!     auth.require_scope(&["admin"])?;
//!     Ok(HttpResponse::NoContent().finish())
//! }
//!
//! let oauth = mcp_runtime::providers::DevProvider::new().into_oauth().expect("a signing key");
//! let server = McpServer::builder().oauth(oauth).routes(|cfg| {
//!     cfg.route("/me", web::get().to(me));
//!     cfg.service(web::scope("/api").wrap(from_fn(bearer_auth)).route("/purge", web::post().to(purge)));
//! });
//! ```

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;

use super::config::AuthState;
use super::metadata::ResourceMetadata;
use super::{Auth, AuthError, ScopeError, http};

/// The URL a request to `path` on the server of `resource` was sent to (what a DPoP proof
/// names): the resource's origin and the path.
fn route_url(resource: &str, path: &str) -> String {
    match url::Url::parse(resource) {
        Ok(mut u) => {
            u.set_path(path);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => path.to_owned(),
    }
}

/// Authenticates a request to one of the user's routes: the caller, or the refusal to send.
async fn authenticate(req: &HttpRequest) -> Result<Auth, HttpResponse> {
    if let Some(auth) = req.extensions().get::<Auth>() {
        return Ok(auth.clone());
    }
    let Some(state) = req.app_data::<actix_web::web::Data<AuthState>>() else {
        tracing::error!(target: "mcp_runtime::auth", "`Auth` used on a route of a server without OAuth");
        return Err(HttpResponse::InternalServerError()
            .content_type("application/json")
            .body(http::oauth_error_body(
                "server_error",
                "this server has no OAuth configured",
            )));
    };
    match state
        .gate
        .authenticate_request(
            req.headers(),
            req.query_string(),
            state.resource(),
            req.method().as_str(),
            &route_url(state.resource(), req.path()),
        )
        .await
    {
        Ok(auth) => {
            req.extensions_mut().insert(auth.clone());
            Ok(auth)
        }
        Err(e) => {
            tracing::debug!(target: "mcp_runtime::auth", status = e.status(), "refused: {e}");
            let metadata = ResourceMetadata::well_known_url(state.resource());
            Err(refusal(&e, &state.baseline_scopes, &metadata))
        }
    }
}

/// 401/400/503 with an RFC 6750 challenge and a JSON body `{error, error_description}`.
fn refusal(e: &AuthError, baseline: &[String], metadata: &str) -> HttpResponse {
    let code = e.oauth_code().unwrap_or(if e.status() == 503 {
        "temporarily_unavailable"
    } else {
        "unauthorized"
    });
    http::refusal(
        e,
        baseline,
        metadata,
        http::oauth_error_body(code, &e.to_string()),
    )
}

/// The caller of a custom route; the route refuses requests without a valid bearer token.
impl FromRequest for Auth {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(&req).await.map_err(|resp| {
                actix_web::error::InternalError::from_response("unauthenticated", resp).into()
            })
        })
    }
}

/// Middleware for `actix_web::middleware::from_fn`: every request needs a valid bearer token;
/// the caller is then available to handlers as [`Auth`].
pub async fn bearer_auth<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match authenticate(req.request()).await {
        Ok(_) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err(resp) => Ok(req.into_response(resp).map_into_right_body()),
    }
}

/// `auth.require_scope(&[...])?` in a route answers 403 with a step-up challenge naming the
/// server's metadata, as the MCP endpoint's do.
impl ResponseError for ScopeError {
    fn status_code(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn error_response(&self) -> HttpResponse {
        let message = self.to_string();
        http::insufficient_scope(
            &self.missing,
            &message,
            self.resource_metadata.as_deref(),
            http::oauth_error_body("insufficient_scope", &message),
        )
    }
}
