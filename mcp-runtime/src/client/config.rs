//! The `mcpServers` configuration that mcp-use and desktop clients read:
//!
//! ```json
//! {
//!   "mcpServers": {
//!     "linear": { "url": "https://mcp.linear.app/mcp" },
//!     "internal": { "url": "https://mcp.example.com/mcp", "auth": "${INTERNAL_TOKEN}" },
//!     "github": {
//!       "url": "https://api.githubcopilot.com/mcp/",
//!       "headers": { "X-Team": "tools" },
//!       "auth": { "client_id": "Iv1.abc", "client_secret": "${GITHUB_SECRET}",
//!                 "scope": "repo read:user", "callback_port": 8081 }
//!     },
//!     "notes": { "command": "notes-server", "args": ["--stdio"], "env": { "NOTES_DIR": "${HOME}/notes" } }
//!   }
//! }
//! ```
//!
//! A server is reached at its `url` (Streamable HTTP), or started from its `command` (with
//! `args`, `env` and `cwd`) and spoken to over stdio, as desktop clients do.
//!
//! `auth` is a bearer token (a string) or OAuth settings (an object: `client_id`,
//! `client_secret`, `issuer` (the authorization server that client is registered with),
//! `scope`, `callback_port`, `client_metadata_url`,
//! `token_endpoint_auth_method`, `oauth_provider` with the authorization server's metadata;
//! for a machine, `grant: "client_credentials"` with `client_secret` or `client_key_file`,
//! `grant: "jwt_bearer"` with `assertion_file` (workload identity), or `grant: "enterprise"`
//! with `idp_token_endpoint`, `idp_client_id`, `idp_client_secret` and `id_token_file`).
//! Without `auth`, OAuth with dynamic registration is used when the server asks for it.
//! `${NAME}` in a string is replaced by that environment variable.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::auth::{
    AssertionSource, AuthServerMetadata, Authenticator, BearerToken, ClientKey, EnterpriseGrant,
    Grant, OAuth, OAuthConfig, Secret, TokenAuthMethod,
};
use super::{Client, ClientBuilder, ClientError, StdioCommand};

/// A configuration file's contents.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The servers, by name.
    #[serde(rename = "mcpServers", default)]
    pub servers: BTreeMap<String, ServerConfig>,
}

/// One server.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Its MCP endpoint (Streamable HTTP).
    #[serde(default)]
    pub url: Option<String>,
    /// Headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How to authenticate.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// A stdio server's command: the client starts it and speaks to it on its standard input
    /// and output (Claude Desktop's format: `command`, `args`, `env`).
    #[serde(default)]
    pub command: Option<String>,
    /// The stdio server's arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables set in the stdio server's environment (`${NAME}` reads the client's).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The folder the stdio server runs in.
    #[serde(default)]
    pub cwd: Option<String>,
}

/// A server's `auth`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum AuthConfig {
    /// A bearer token.
    Bearer(String),
    /// OAuth settings.
    OAuth(Box<OAuthSettings>),
}

/// OAuth settings of a server, as mcp-use names them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// A pre-registered client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The issuer of the authorization server that client is registered with: its
    /// credentials go to no other.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Its secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes to ask for.
    #[serde(default)]
    pub scope: Option<String>,
    /// The loopback callback's port (default 8080).
    #[serde(default)]
    pub callback_port: Option<u16>,
    /// A Client ID Metadata Document URL.
    #[serde(default)]
    pub client_metadata_url: Option<String>,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// The authorization server's metadata, to skip discovery.
    #[serde(default)]
    pub oauth_provider: Option<AuthServerMetadata>,
    /// `authorization_code` (a user signs in, the default) or `client_credentials` (a
    /// machine: `client_id` with `client_secret` or `client_key_file`).
    #[serde(default)]
    pub grant: Option<String>,
    /// A PEM file with the client's private key, for `private_key_jwt` (RFC 7523).
    #[serde(default)]
    pub client_key_file: Option<String>,
    /// Ask for DPoP-bound tokens (RFC 9449): proofs by a key of the client's own.
    #[serde(default)]
    pub dpop: Option<bool>,
    /// With `grant: "jwt_bearer"`: the file holding the workload's JWT, read at each use.
    #[serde(default)]
    pub assertion_file: Option<String>,
    /// With `grant: "enterprise"`: the identity provider's token endpoint.
    #[serde(default)]
    pub idp_token_endpoint: Option<String>,
    /// With `grant: "enterprise"`: this client's id at the identity provider.
    #[serde(default)]
    pub idp_client_id: Option<String>,
    /// With `grant: "enterprise"`: its secret there.
    #[serde(default)]
    pub idp_client_secret: Option<String>,
    /// With `grant: "enterprise"`: the file holding the user's ID token, read at each use.
    #[serde(default)]
    pub id_token_file: Option<String>,
}

impl ClientConfig {
    /// Reads a file; errors name it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| match e {
            ClientError::Config(m) => ClientError::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses a configuration.
    pub fn parse(text: &str) -> Result<Self, ClientError> {
        serde_json::from_str(text)
            .map_err(|e| ClientError::Config(format!("not a valid mcpServers configuration: {e}")))
    }

    /// The server called `name`; the error lists the known ones.
    pub fn server(&self, name: &str) -> Result<&ServerConfig, ClientError> {
        self.servers.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.servers.keys().map(String::as_str).collect();
            ClientError::Config(format!(
                "no server `{name}` in the configuration (it has: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ))
        })
    }
}

impl ServerConfig {
    /// Its URL, checked (an error for a stdio server, which has none).
    pub fn url(&self) -> Result<String, ClientError> {
        match (&self.url, &self.command) {
            (Some(_), Some(_)) => Err(ClientError::Config(
                "the server has both `url` and `command`: give one (`url` for Streamable HTTP, \
                 `command` for stdio)"
                    .into(),
            )),
            (Some(u), None) => expand(u),
            (None, Some(c)) => Err(ClientError::Config(format!(
                "`{c}` is a stdio server: it has a command, not a URL"
            ))),
            (None, None) => Err(ClientError::Config(
                "the server has neither `url` nor `command`".into(),
            )),
        }
    }

    /// How to start it, when it is a stdio server (`command`, `args`, `env`, `cwd`; `${NAME}`
    /// expanded in each).
    pub fn stdio_command(&self) -> Result<Option<StdioCommand>, ClientError> {
        let Some(command) = &self.command else {
            return Ok(None);
        };
        if self.url.is_some() {
            return Err(ClientError::Config(
                "the server has both `url` and `command`: give one".into(),
            ));
        }
        if self.auth.is_some() {
            return Err(ClientError::Config(format!(
                "`{command}` is a stdio server: it takes no `auth` (give it credentials in `env`)"
            )));
        }
        let mut cmd = StdioCommand::new(expand(command)?);
        for a in &self.args {
            cmd = cmd.arg(expand(a)?);
        }
        for (k, v) in &self.env {
            cmd = cmd.env(k.clone(), expand(v)?);
        }
        if let Some(dir) = &self.cwd {
            cmd.cwd = Some(expand(dir)?.into());
        }
        Ok(Some(cmd))
    }

    /// Its URL, or `stdio:<command and arguments>` for a stdio server.
    pub fn endpoint(&self) -> Result<String, ClientError> {
        match self.stdio_command()? {
            Some(cmd) => Ok(format!("stdio:{}", cmd.label())),
            None => self.url(),
        }
    }

    /// The authenticator its `auth` describes; `base` gives the OAuth defaults (store, opener,
    /// callback) that the entry may override.
    pub fn authenticator(&self, base: OAuthConfig) -> Result<Arc<dyn Authenticator>, ClientError> {
        if self.stdio_command()?.is_some() {
            return Ok(Arc::new(super::auth::NoAuth));
        }
        match &self.auth {
            Some(AuthConfig::Bearer(token)) => Ok(Arc::new(BearerToken::new(expand(token)?))),
            _ => Ok(Arc::new(self.oauth(base)?.ok_or_else(|| {
                ClientError::Config("no OAuth for a bearer token".into())
            })?)),
        }
    }

    /// Its OAuth settings over `base`; `None` when it uses a bearer token.
    pub fn oauth(&self, base: OAuthConfig) -> Result<Option<OAuth>, ClientError> {
        if self.stdio_command()?.is_some() {
            return Ok(None);
        }
        let url = self.url()?;
        match &self.auth {
            Some(AuthConfig::Bearer(_)) => Ok(None),
            Some(AuthConfig::OAuth(s)) => {
                let mut cfg = base;
                if let Some(id) = &s.client_id {
                    cfg.client_id = Some(expand(id)?);
                }
                if let Some(secret) = &s.client_secret {
                    cfg.client_secret = Some(Secret::new(expand(secret)?));
                }
                if let Some(issuer) = &s.issuer {
                    cfg.client_issuer = Some(expand(issuer)?);
                }
                if let Some(scope) = &s.scope {
                    cfg.scope = Some(scope.clone());
                }
                if let Some(port) = s.callback_port {
                    cfg.callback.port = port;
                }
                if let Some(u) = &s.client_metadata_url {
                    cfg.client_metadata_url = Some(u.clone());
                }
                if let Some(m) = &s.token_endpoint_auth_method {
                    cfg.token_auth_method = Some(TokenAuthMethod::parse(m).ok_or_else(|| {
                        ClientError::Config(format!(
                            "token_endpoint_auth_method `{m}`: use client_secret_basic, client_secret_post, private_key_jwt or none"
                        ))
                    })?);
                }
                if let Some(m) = &s.oauth_provider {
                    cfg.metadata = Some(m.clone());
                }
                let needs = |value: &Option<String>, key: &str| {
                    value.as_deref().map(expand).transpose()?.ok_or_else(|| {
                        ClientError::Config(format!(
                            "grant `{}` needs `{key}`",
                            s.grant.as_deref().unwrap_or_default()
                        ))
                    })
                };
                match s.grant.as_deref() {
                    None | Some("authorization_code") => {}
                    Some("client_credentials") => cfg.grant = Grant::ClientCredentials,
                    Some("jwt_bearer") => {
                        cfg.grant = Grant::JwtBearer(AssertionSource::file(needs(
                            &s.assertion_file,
                            "assertion_file",
                        )?));
                    }
                    Some("enterprise") => {
                        let mut e = EnterpriseGrant::new(
                            needs(&s.idp_token_endpoint, "idp_token_endpoint")?,
                            needs(&s.idp_client_id, "idp_client_id")?,
                            AssertionSource::file(needs(&s.id_token_file, "id_token_file")?),
                        );
                        if let Some(secret) = &s.idp_client_secret {
                            e = e.idp_client_secret(expand(secret)?);
                        }
                        cfg.grant = Grant::Enterprise(e);
                    }
                    Some(other) => {
                        return Err(ClientError::Config(format!(
                            "grant `{other}`: use authorization_code, client_credentials, \
                             jwt_bearer or enterprise"
                        )));
                    }
                }
                if let Some(dpop) = s.dpop {
                    cfg.dpop = dpop;
                }
                if let Some(file) = &s.client_key_file {
                    let path = expand(file)?;
                    let pem = std::fs::read_to_string(&path)
                        .map_err(|e| ClientError::Config(format!("client_key_file {path}: {e}")))?;
                    let key = ClientKey::from_pem(&pem)
                        .map_err(|e| ClientError::Config(format!("client_key_file {path}: {e}")))?;
                    cfg.client_key = Some(Arc::new(key));
                }
                Ok(Some(OAuth::new(&url, cfg)?))
            }
            None => Ok(Some(OAuth::new(&url, base)?)),
        }
    }

    /// A client builder for this server (URL, headers, authentication).
    pub fn builder(&self, base: OAuthConfig) -> Result<ClientBuilder, ClientError> {
        if let Some(cmd) = self.stdio_command()? {
            return Ok(Client::stdio(cmd));
        }
        let mut b = Client::builder(self.url()?).auth_shared(self.authenticator(base)?);
        for (k, v) in &self.headers {
            b = b.header(k.clone(), expand(v)?);
        }
        Ok(b)
    }
}

/// Replaces `${NAME}` by the environment variable; a missing one is an error naming it.
fn expand(s: &str) -> Result<String, ClientError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            return Err(ClientError::Config(format!("unclosed `${{` in `{s}`")));
        };
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            ClientError::Config(format!(
                "the environment variable {name} is not set (named in the configuration)"
            ))
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mcp_servers_format_parses() {
        let c = ClientConfig::parse(
            r#"{"mcpServers": {
                "a": {"url": "https://a.example/mcp", "auth": "tok"},
                "b": {"url": "https://b.example/mcp", "headers": {"X": "1"},
                      "auth": {"client_id": "id", "callback_port": 8081,
                               "oauth_provider": {"issuer": "https://as", "authorization_endpoint": "https://as/a", "token_endpoint": "https://as/t"}}},
                "c": {"command": "npx", "args": ["x"]}
            }}"#,
        )
        .expect("parses");
        assert!(matches!(
            c.server("a").expect("a").auth,
            Some(AuthConfig::Bearer(_))
        ));
        let Some(AuthConfig::OAuth(s)) = &c.server("b").expect("b").auth else {
            panic!("oauth");
        };
        assert_eq!(s.callback_port, Some(8081));
        assert!(
            c.server("c")
                .expect("c")
                .url()
                .expect_err("refused")
                .to_string()
                .contains("stdio")
        );
        assert_eq!(
            c.server("c").expect("c").endpoint().expect("stdio"),
            "stdio:npx x"
        );
        assert!(
            c.server("d")
                .expect_err("refused")
                .to_string()
                .contains("it has: a, b, c")
        );
        let bad =
            ClientConfig::parse(r#"{"mcpServers": {"x": {"url": "u", "auth": {"client": 1}}}}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn machine_grants_are_configured_or_named() {
        let server = |auth: &str| {
            let text = format!(
                r#"{{"mcpServers": {{"m": {{"url": "https://m.example/mcp", "auth": {auth}}}}}}}"#
            );
            ClientConfig::parse(&text)
                .expect("parses")
                .server("m")
                .expect("m")
                .clone()
        };
        let oauth = |auth: &str| server(auth).oauth(OAuthConfig::default());
        let ok =
            oauth(r#"{"grant": "client_credentials", "client_id": "c", "client_secret": "s"}"#)
                .expect("client credentials")
                .expect("oauth");
        assert!(
            format!("{ok:?}").contains("grant: ClientCredentials"),
            "{ok:?}"
        );
        let ok = oauth(r#"{"grant": "jwt_bearer", "assertion_file": "/var/run/token"}"#)
            .expect("jwt bearer")
            .expect("oauth");
        assert!(format!("{ok:?}").contains("grant: JwtBearer"), "{ok:?}");
        let e = oauth(r#"{"grant": "jwt_bearer"}"#).expect_err("no file");
        assert!(e.to_string().contains("needs `assertion_file`"), "{e}");
        let e = oauth(r#"{"grant": "enterprise", "idp_token_endpoint": "https://idp/token"}"#)
            .expect_err("incomplete");
        assert!(e.to_string().contains("needs `idp_client_id`"), "{e}");
        let e = oauth(r#"{"grant": "implicit"}"#).expect_err("unknown");
        assert!(e.to_string().contains("use authorization_code"), "{e}");
        let e = oauth(r#"{"client_key_file": "/nonexistent/key.pem"}"#).expect_err("no key");
        assert!(
            e.to_string()
                .contains("client_key_file /nonexistent/key.pem"),
            "{e}"
        );
    }

    #[test]
    fn variables_are_expanded_or_named() {
        assert_eq!(expand("plain").expect("ok"), "plain");
        let err = expand("Bearer ${MCP_RUNTIME_SURELY_UNSET_VAR}").expect_err("refused");
        assert!(err.to_string().contains("MCP_RUNTIME_SURELY_UNSET_VAR"));
        assert!(expand("${OPEN").is_err());
    }
}
