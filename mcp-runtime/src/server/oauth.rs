//! The OAuth side of [`McpServerBuilder`] (feature `oauth`).

use super::McpServerBuilder;
use crate::auth::config::AuthState;
use crate::config::PublicUrl;
use crate::model::Report;
use crate::server::BuildError;

impl McpServerBuilder {
    /// Protects the server with OAuth: every request needs a valid bearer token, tools may
    /// require scopes and take the caller as `Auth`, and the protected resource metadata is
    /// served (RFC 9728).
    pub fn oauth(mut self, oauth: crate::auth::OAuth) -> Self {
        self.oauth = Some(oauth);
        self
    }

    /// Protects the server with an OAuth configuration that may have failed to load (a
    /// `Result<OAuth, E>`); the error is reported by [`build`](Self::build). This is what
    /// `#[mcp_server(oauth = make_oauth)]` calls with `make_oauth()`.
    pub fn oauth_from(mut self, oauth: impl crate::auth::IntoOAuth) -> Self {
        self.oauth_requested = true;
        match oauth.try_into_oauth() {
            Ok(o) => self.oauth = Some(o),
            Err(e) => self.problems.push(format!("OAuth: {e}")),
        }
        self
    }

    /// Protects the server with a preset configured from the environment (`"custom"`:
    /// `MCP_USE_OAUTH_CUSTOM_*`; `"dev"`: the embedded development authorization server,
    /// `MCP_USE_OAUTH_DEV_*`). Configuration errors are reported by [`build`](Self::build),
    /// naming the variable.
    pub fn oauth_preset(mut self, preset: &str) -> Self {
        self.oauth_requested = true;
        if matches!(
            crate::config::Transport::from_env(),
            Ok(crate::config::Transport::Stdio)
        ) {
            // No OAuth over stdio: the preset is not set up (its variables are not needed,
            // its store not opened); the local user is the caller.
            return self;
        }
        let client = crate::auth::http_client();
        match preset {
            "custom" => match crate::providers::CustomProvider::from_env() {
                Ok(p) => self.oauth = Some(p.into_oauth(client)),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `custom`: {}", Report(&e))),
            },
            #[cfg(feature = "dev-server")]
            "dev" => match crate::providers::DevProvider::from_env().and_then(|p| p.into_oauth()) {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `dev`: {}", Report(&e))),
            },
            #[cfg(not(feature = "dev-server"))]
            "dev" => self
                .problems
                .push("OAuth preset `dev` needs the `dev-server` feature of mcp-runtime".into()),
            #[cfg(feature = "proxy")]
            "proxy" => {
                match crate::providers::ProxyProvider::from_env().and_then(|p| p.into_oauth()) {
                    Ok(o) => self.oauth = Some(o),
                    Err(e) => self
                        .problems
                        .push(format!("OAuth preset `proxy`: {}", Report(&e))),
                }
            }
            #[cfg(feature = "proxy")]
            "google" => match crate::providers::GoogleProvider::default().into_oauth() {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `google`: {}", Report(&e))),
            },
            #[cfg(feature = "proxy")]
            "entra" => match crate::providers::EntraProvider::default().into_oauth() {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `entra`: {}", Report(&e))),
            },
            #[cfg(not(feature = "proxy"))]
            "entra" => self
                .problems
                .push("OAuth preset `entra` needs the `proxy` feature of mcp-runtime".into()),
            #[cfg(feature = "proxy")]
            "github" => match crate::providers::GitHubProvider::default().into_oauth() {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `github`: {}", Report(&e))),
            },
            #[cfg(not(feature = "proxy"))]
            "github" => self
                .problems
                .push("OAuth preset `github` needs the `proxy` feature of mcp-runtime".into()),
            #[cfg(feature = "proxy")]
            "okta" => match crate::providers::OktaProvider::default().into_oauth() {
                Ok(o) => self.oauth = Some(o),
                Err(e) => self
                    .problems
                    .push(format!("OAuth preset `okta`: {}", Report(&e))),
            },
            #[cfg(not(feature = "proxy"))]
            "okta" => self
                .problems
                .push("OAuth preset `okta` needs the `proxy` feature of mcp-runtime".into()),
            #[cfg(not(feature = "proxy"))]
            "google" => self
                .problems
                .push("OAuth preset `google` needs the `proxy` feature of mcp-runtime".into()),
            #[cfg(not(feature = "proxy"))]
            "proxy" => self
                .problems
                .push("OAuth preset `proxy` needs the `proxy` feature of mcp-runtime".into()),
            "auth0" | "workos" | "supabase" | "keycloak" | "clerk" | "better_auth" => {
                use crate::providers::*;
                let built = match preset {
                    "auth0" => Auth0Provider::default().into_oauth(client),
                    "workos" => WorkOsProvider::default().into_oauth(client),
                    "supabase" => SupabaseProvider::default().into_oauth(client),
                    "keycloak" => KeycloakProvider::default().into_oauth(client),
                    "clerk" => ClerkProvider::default().into_oauth(client),
                    _ => BetterAuthProvider::default().into_oauth(client),
                };
                match built {
                    Ok(o) => self.oauth = Some(o),
                    Err(e) => self
                        .problems
                        .push(format!("OAuth preset `{preset}`: {}", Report(&e))),
                }
            }
            other => self.problems.push(format!(
                "unknown OAuth preset `{other}`; known presets: {}",
                crate::providers::PRESETS.join(", ")
            )),
        }
        self
    }

    /// Whether OAuth is configured (or was asked for and failed, which is reported already).
    pub(super) fn has_oauth(&self) -> bool {
        self.oauth.is_some() || self.oauth_requested
    }

    /// A verifier that checks nothing: a loud warning in debug builds, refused in release.
    pub(super) fn check_verifier(&self, problems: &mut Vec<String>) {
        let Some(oauth) = &self.oauth else { return };
        if !oauth.verifier.is_dangerous() {
            return;
        }
        let allow = std::env::var("MCP_USE_OAUTH_ALLOW_UNVERIFIED").ok();
        match unverified_allowed(cfg!(debug_assertions), allow.as_deref()) {
            Ok(()) => tracing::warn!(
                target: "mcp_runtime::auth",
                "TOKENS ARE NOT VERIFIED: {}. Anyone can forge a token for this server; \
                 use this for local development only",
                oauth.verifier.describe()
            ),
            Err(e) => problems.push(e),
        }
    }

    /// The server's authentication state; its resource is the public URL unless
    /// `OAuth::resource` names it (a different one is refused).
    pub(super) fn auth_state(
        &mut self,
        public_url: Option<&PublicUrl>,
        source: &str,
        tool_scopes: &[&str],
    ) -> Result<Option<AuthState>, BuildError> {
        let Some(mut oauth) = self.oauth.take() else {
            return Ok(None);
        };
        match (&oauth.resource, public_url) {
            (Some(resource), Some(public)) if resource != &public.text => {
                return Err(BuildError {
                    problems: vec![format!(
                        "OAuth::resource `{resource}` differs from the public URL `{}` ({source}); \
                         tokens are issued for one resource: set only the public URL",
                        public.text
                    )],
                });
            }
            (None, Some(public)) => oauth.resource = Some(public.text.clone()),
            _ => {}
        }
        let problems = oauth.hierarchy.problems();
        #[cfg(feature = "authorization-server")]
        let problems = {
            let mut problems = problems;
            if let (Some(dev), Some(resource)) = (&oauth.embedded, &oauth.resource)
                && let Some(problem) = dev.refuse_public(resource)
            {
                problems.push(problem);
            }
            problems
        };
        let mut problems = problems;
        if let Some(branding) = &self.branding {
            problems.extend(branding.problems());
        }
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        #[cfg(feature = "authorization-server")]
        if let Some(dev) = &oauth.embedded {
            let server = self.title.as_deref().unwrap_or(&self.name);
            dev.set_look(server, self.branding.as_ref());
        }
        Ok(Some(AuthState::new(oauth, tool_scopes)))
    }
}

/// Whether a verifier that checks nothing may run: always in a debug build (with a warning),
/// in a release build only when `MCP_USE_OAUTH_ALLOW_UNVERIFIED` is `true`.
fn unverified_allowed(debug_build: bool, allow: Option<&str>) -> Result<(), String> {
    if debug_build || allow.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        Ok(())
    } else {
        Err(
            "the OAuth verifier does not verify tokens (verify_jwt = false / \
             dangerous::UnverifiedJwt), which a release build refuses: verify tokens, or set \
             MCP_USE_OAUTH_ALLOW_UNVERIFIED=true to force it"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::unverified_allowed;

    #[test]
    fn unverified_tokens_need_a_debug_build_or_an_explicit_force() {
        assert!(unverified_allowed(true, None).is_ok());
        assert!(unverified_allowed(false, Some("true")).is_ok());
        assert!(unverified_allowed(false, Some(" TRUE ")).is_ok());
        let e = unverified_allowed(false, None).expect_err("release build");
        assert!(e.contains("MCP_USE_OAUTH_ALLOW_UNVERIFIED=true"), "{e}");
        assert!(unverified_allowed(false, Some("1")).is_err());
    }
}
