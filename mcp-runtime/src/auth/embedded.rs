//! An authorization server that runs inside this server (the development server, the OAuth
//! proxy), as the resource server sees it.
//!
//! The resource server defines what it needs and the authorization-server core implements it,
//! so `auth` knows no authorization server: it learns the scopes and resource the issuer
//! serves, reads its revocations, mounts its endpoints, and hands tools a grant's upstream
//! tokens.

use std::sync::Arc;

use actix_web::web;

use super::revocations::Revocations;
use crate::store::StoreFuture;

/// The embedded authorization server, seen from the resource it issues tokens for.
pub(crate) trait EmbeddedIssuer: Send + Sync {
    /// The scopes the server's tools use, and those every token carries.
    fn set_scopes(&self, supported: &[String], baseline: &[String]);
    /// The canonical resource its tokens are for (once the address is known).
    fn set_resource(&self, resource: &str);
    /// How its pages name the server (its title or name) and the product's branding.
    fn set_look(&self, server: &str, branding: Option<&crate::config::Branding>);
    /// Its issuer URL, once known.
    fn issuer(&self) -> Option<&str>;
    /// The grants it revoked: their tokens are refused.
    fn revocations(&self) -> Arc<Revocations>;
    /// Why it must not serve this public resource URL, if it must not.
    fn refuse_public(&self, resource: &str) -> Option<String>;
    /// Mounts its endpoints.
    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig);
    /// The upstream access token of a grant (the `gid` claim of its tokens), for tools.
    fn upstream_access_token<'a>(&'a self, grant: &'a str) -> StoreFuture<'a, Option<String>>;
}
