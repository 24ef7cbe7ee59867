//! The core as the resource server sees it: `auth`'s [`EmbeddedIssuer`], implemented here so
//! that `auth` imports nothing of the authorization server.

use std::sync::Arc;

use actix_web::web;

use super::AuthServer;
use crate::auth::embedded::EmbeddedIssuer;
use crate::auth::revocations::Revocations;
use crate::store::StoreFuture;

impl EmbeddedIssuer for AuthServer {
    fn set_scopes(&self, supported: &[String], baseline: &[String]) {
        AuthServer::set_scopes(self, supported, baseline);
    }

    fn set_resource(&self, resource: &str) {
        AuthServer::set_resource(self, resource);
    }

    fn set_look(&self, server: &str, branding: Option<&crate::config::Branding>) {
        let _ = self.look.set(super::pages::Look::new(server, branding));
    }

    fn issuer(&self) -> Option<&str> {
        AuthServer::issuer(self)
    }

    fn revocations(&self) -> Arc<Revocations> {
        self.revocations.clone()
    }

    fn refuse_public(&self, resource: &str) -> Option<String> {
        AuthServer::refuse_public(self, resource)
    }

    fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        AuthServer::configure(&self, cfg);
    }

    fn upstream_access_token<'a>(&'a self, grant: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(AuthServer::upstream_access_token(self, grant))
    }
}
