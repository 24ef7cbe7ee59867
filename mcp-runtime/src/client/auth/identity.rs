//! Who the client is to the authorization server: a Client ID Metadata Document URL where
//! supported, the configured client, a stored registration, or a new dynamic registration;
//! and how it authenticates at the token endpoint.

use super::discovery::Discovered;
use super::flow::{Grant, OAuth};
use super::register;
use super::secret::Secret;
use super::store::Registration;
use super::token::{ClientCreds, TokenAuthMethod};
use crate::client::ClientError;

impl OAuth {
    /// The client as the authorization server knows it: a metadata-document URL, the
    /// configured client, a stored registration, or a new one. The flag says it was stored.
    pub(super) async fn identity(
        &self,
        d: &Discovered,
        redirect_uri: Option<&str>,
    ) -> Result<(ClientCreds, bool), ClientError> {
        let m = &d.metadata;
        if let Some(url) = &self.cfg.client_metadata_url
            && m.client_id_metadata_document_supported
            && matches!(self.cfg.grant, Grant::AuthorizationCode)
        {
            self.step(&format!("client id: the metadata document {url}"));
            return Ok((
                ClientCreds {
                    client_id: url.clone(),
                    secret: None,
                    method: TokenAuthMethod::None,
                    key: None,
                    audience: m.issuer.clone(),
                },
                false,
            ));
        }
        if let Some(id) = &self.cfg.client_id {
            if let Some(bound) = self.bound_issuer()
                && bound.trim_end_matches('/') != m.issuer.trim_end_matches('/')
            {
                return Err(ClientError::auth(format!(
                    "the configured client is registered with {bound}, and the server's \
                     authorization server is {}: refusing to send its credentials there \
                     (register the client there and set its issuer)",
                    m.issuer
                )));
            }
            let method = self.cfg.token_auth_method.unwrap_or_else(|| {
                if self.cfg.client_key.is_some() {
                    TokenAuthMethod::PrivateKeyJwt
                } else {
                    choose_method(
                        m.token_endpoint_auth_methods_supported.as_deref(),
                        self.cfg.client_secret.is_some(),
                    )
                }
            });
            self.step(&format!("client id: {id} (configured, {method:?})"));
            return Ok((
                ClientCreds {
                    client_id: id.clone(),
                    secret: self.cfg.client_secret.clone(),
                    method,
                    key: self.cfg.client_key.clone(),
                    audience: m.issuer.clone(),
                },
                false,
            ));
        }
        if !matches!(self.cfg.grant, Grant::AuthorizationCode) {
            return Err(ClientError::auth(
                "a grant without a browser needs a client the server's operator registered: \
                 set client_id, and client_secret or client_key",
            ));
        }
        if let Some(r) = self.store.load_registration(&self.server)?
            && r.issuer == m.issuer
            && redirect_uri
                .is_none_or(|uri| same_redirect(&r.redirect_uri, uri, self.cfg.callback.port))
        {
            self.step(&format!("client id: {} (registered earlier)", r.client_id));
            return Ok((creds_of(&r), true));
        }
        let Some(uri) = redirect_uri else {
            return Err(ClientError::auth("no client registration to refresh with"));
        };
        let Some(endpoint) = &m.registration_endpoint else {
            return Err(ClientError::auth(format!(
                "the authorization server {} offers no dynamic client registration and no \
                 client id is configured: register a client there (redirect URI {uri}) and \
                 set its client_id",
                m.issuer
            )));
        };
        self.step(&format!("registering a client at {endpoint}"));
        let reg = register::register(&self.http, endpoint, uri, &self.cfg.client_name).await?;
        let r = Registration {
            server: self.server.clone(),
            issuer: m.issuer.clone(),
            client_id: reg.client_id,
            client_secret: reg.client_secret,
            token_endpoint_auth_method: reg.token_endpoint_auth_method,
            redirect_uri: uri.to_owned(),
        };
        if let Err(e) = self.store.save_registration(&r) {
            tracing::warn!(target: "mcp_runtime::client", "{e}");
        }
        self.step(&format!("registered as {}", r.client_id));
        Ok((creds_of(&r), false))
    }
}

pub(super) fn creds_of(r: &Registration) -> ClientCreds {
    let method = r
        .token_endpoint_auth_method
        .as_deref()
        .and_then(TokenAuthMethod::parse)
        .unwrap_or(if r.client_secret.is_some() {
            TokenAuthMethod::ClientSecretBasic
        } else {
            TokenAuthMethod::None
        });
    ClientCreds {
        client_id: r.client_id.clone(),
        secret: r.client_secret.clone().map(Secret::new),
        method,
        key: None,
        audience: r.issuer.clone(),
    }
}

/// With a secret: basic if allowed (the RFC 8414 default), else post; without one: none.
fn choose_method(supported: Option<&[String]>, has_secret: bool) -> TokenAuthMethod {
    if !has_secret {
        return TokenAuthMethod::None;
    }
    let Some(list) = supported else {
        return TokenAuthMethod::ClientSecretBasic;
    };
    let has = |m: &str| list.iter().any(|x| x == m);
    if has("client_secret_basic") {
        TokenAuthMethod::ClientSecretBasic
    } else if has("client_secret_post") {
        TokenAuthMethod::ClientSecretPost
    } else if has("none") {
        TokenAuthMethod::None
    } else {
        TokenAuthMethod::ClientSecretBasic
    }
}

/// Whether a stored registration's redirect URI serves now: the same, or (with an ephemeral
/// callback port) the same but for a loopback port (RFC 8252 §7.3).
fn same_redirect(stored: &str, now: &str, configured_port: u16) -> bool {
    if stored == now {
        return true;
    }
    if configured_port != 0 {
        return false;
    }
    match (url::Url::parse(stored), url::Url::parse(now)) {
        (Ok(a), Ok(b)) => a.host() == b.host() && a.path() == b.path() && a.scheme() == b.scheme(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_endpoint_method_follows_the_metadata() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            choose_method(None, true),
            TokenAuthMethod::ClientSecretBasic
        );
        assert_eq!(choose_method(None, false), TokenAuthMethod::None);
        assert_eq!(
            choose_method(Some(&list(&["client_secret_post"])), true),
            TokenAuthMethod::ClientSecretPost
        );
        assert_eq!(
            choose_method(Some(&list(&["none", "client_secret_basic"])), true),
            TokenAuthMethod::ClientSecretBasic
        );
    }
}
