//! Tokens without a browser: the client-credentials grant, and the JWT-bearer grant with a
//! platform's JWT or an ID-JAG from the company's identity provider (see `grants`).

use super::discovery::Discovered;
use super::flow::{Grant, OAuth, State};
use super::grants::JWT_BEARER;
use super::token::{self, TokenAuthMethod};
use crate::client::ClientError;

impl OAuth {
    /// A grant without a browser (client credentials, JWT bearer, enterprise-managed) for
    /// `scope`, with the resource named. A refusal is reported as it is: no retry, no other
    /// grant tried.
    pub(super) async fn machine_grant(
        &self,
        st: &mut State,
        d: &Discovered,
        scope: Option<String>,
    ) -> Result<(), ClientError> {
        let (grant_type, label) = match &self.cfg.grant {
            Grant::ClientCredentials => ("client_credentials", "client credentials"),
            Grant::JwtBearer(_) => (JWT_BEARER, "a JWT-bearer grant (workload identity)"),
            Grant::Enterprise(_) => (JWT_BEARER, "an ID-JAG (enterprise-managed authorization)"),
            Grant::AuthorizationCode => {
                return Err(ClientError::auth(
                    "a browser sign-in is not a machine grant",
                ));
            }
        };
        if let Some(grants) = &d.metadata.grant_types_supported
            && !grants.iter().any(|g| g == grant_type)
        {
            return Err(ClientError::auth(format!(
                "the authorization server {} does not offer the {grant_type} grant \
                 (grant_types_supported: {})",
                d.metadata.issuer,
                grants.join(" ")
            )));
        }
        let mut form = vec![("grant_type", grant_type.to_owned())];
        match &self.cfg.grant {
            Grant::JwtBearer(source) => form.push(("assertion", source.get().await?)),
            Grant::Enterprise(e) => {
                self.step(&format!(
                    "exchanging the ID token for an ID-JAG at {}",
                    e.idp_token_endpoint
                ));
                let jag = e
                    .id_jag(
                        &self.http,
                        &d.metadata.issuer,
                        &d.resource,
                        scope.as_deref(),
                    )
                    .await?;
                form.push(("assertion", jag));
            }
            _ => {}
        }
        form.push(("resource", d.resource.clone()));
        if let Some(s) = &scope {
            form.push(("scope", s.clone()));
        }
        let creds = match (&self.cfg.grant, &self.cfg.client_id) {
            // RFC 7523 §3.1: client authentication is optional with an assertion grant.
            (Grant::JwtBearer(_), None) => None,
            _ => Some(self.identity(d, None).await?.0),
        };
        self.step(&format!(
            "{label} at {} (scope: {}, resource: {})",
            d.metadata.token_endpoint,
            scope.as_deref().unwrap_or("none"),
            d.resource
        ));
        let anonymous = token::ClientCreds {
            client_id: String::new(),
            secret: None,
            method: TokenAuthMethod::None,
            key: None,
            audience: d.metadata.issuer.clone(),
        };
        let answer = self
            .token_request(d, creds.as_ref().unwrap_or(&anonymous), form)
            .await
            .map_err(ClientError::from)?;
        self.keep(st, d, answer, scope, None);
        Ok(())
    }
}
