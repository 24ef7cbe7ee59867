//! Dynamic client registration (RFC 7591) as a native application with a loopback redirect.

use serde_json::{Value, json};

use crate::client::ClientError;

/// What the registration endpoint gave.
pub(crate) struct Registered {
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    pub(crate) token_endpoint_auth_method: Option<String>,
}

/// Registers a public client for `redirect_uri`. No `scope` is sent: some servers pin a client
/// to the scopes it registered with, which would stop it from stepping up later.
pub(crate) async fn register(
    http: &reqwest::Client,
    endpoint: &str,
    redirect_uri: &str,
    client_name: &str,
) -> Result<Registered, ClientError> {
    let body = json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    let resp = http
        .post(endpoint)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            ClientError::auth_by(
                format!("the registration endpoint {endpoint} is unreachable"),
                e,
            )
        })?;
    let status = resp.status();
    let answer: Value = super::guard::bounded_json(resp, super::guard::MAX_ANSWER)
        .await
        .unwrap_or(Value::Null);
    if !status.is_success() {
        let why = answer
            .get("error_description")
            .or_else(|| answer.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        return Err(ClientError::auth(format!(
            "dynamic client registration at {endpoint} was refused (HTTP {status}: {}); \
             configure a client id registered by hand instead",
            super::guard::printable(why)
        )));
    }
    let Some(client_id) = answer.get("client_id").and_then(Value::as_str) else {
        return Err(ClientError::auth(format!(
            "the registration endpoint {endpoint} answered without a client_id"
        )));
    };
    Ok(Registered {
        client_id: client_id.to_owned(),
        client_secret: answer
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_owned),
        token_endpoint_auth_method: answer
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}
