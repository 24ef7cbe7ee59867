//! The loopback redirect target of a sign-in (RFC 8252 §7.3): a listener on 127.0.0.1 that
//! takes the authorization response and shows a small page.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::client::ClientError;

/// Where the browser comes back: `http://<host>:<port><path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackConfig {
    /// The loopback address (default `127.0.0.1`).
    pub host: String,
    /// The port (default 8080, mcp-use's; 0 for any free port).
    pub port: u16,
    /// The path (default `/callback`).
    pub path: String,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        CallbackConfig {
            host: "127.0.0.1".into(),
            port: 8080,
            path: "/callback".into(),
        }
    }
}

impl CallbackConfig {
    /// The callback on this port.
    pub fn port(port: u16) -> Self {
        CallbackConfig {
            port,
            ..Default::default()
        }
    }
}

/// A bound callback listener.
pub(crate) struct Callback {
    listener: TcpListener,
    pub(crate) redirect_uri: String,
    path: String,
}

/// Largest request head read from the browser.
const MAX_HEAD: usize = 16 * 1024;

impl Callback {
    /// Binds the port first, so that a busy one is reported before the browser opens.
    pub(crate) async fn bind(config: &CallbackConfig) -> Result<Callback, ClientError> {
        let host = config.host.trim_start_matches('[').trim_end_matches(']');
        let ip: std::net::IpAddr = match host {
            "localhost" => std::net::Ipv4Addr::LOCALHOST.into(),
            h => h.parse().map_err(|_| {
                ClientError::Config(format!("callback host `{h}` is not a loopback address"))
            })?,
        };
        if !ip.is_loopback() {
            return Err(ClientError::Config(format!(
                "callback host `{host}` is not a loopback address (RFC 8252 §7.3)"
            )));
        }
        let listener = TcpListener::bind((ip, config.port)).await.map_err(|e| {
            ClientError::Config(format!(
                "cannot listen for the sign-in callback on {host}:{}: {e}; free the port or \
                 choose another one (`callback_port` in the configuration, `--port` for the CLI)",
                config.port
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| ClientError::Config(format!("callback listener: {e}")))?
            .port();
        let shown = if ip.is_ipv6() {
            format!("[{ip}]")
        } else if config.host == "localhost" {
            "localhost".into()
        } else {
            ip.to_string()
        };
        let path = if config.path.starts_with('/') {
            config.path.clone()
        } else {
            format!("/{}", config.path)
        };
        Ok(Callback {
            listener,
            redirect_uri: format!("http://{shown}:{port}{path}"),
            path,
        })
    }

    /// Waits for the browser's request to the callback path carrying this sign-in's `state`;
    /// answers it with a page saying how the sign-in went (as `judge` decides) and returns its
    /// query parameters. A request without that `state` (any web page can send one to a
    /// loopback port) is answered and ignored: the wait goes on, within `timeout`.
    pub(crate) async fn wait(
        &self,
        timeout: Duration,
        state: &str,
        judge: impl Fn(&HashMap<String, String>) -> Result<(), String>,
    ) -> Result<HashMap<String, String>, ClientError> {
        let accept = async {
            loop {
                let Ok((mut stream, _)) = self.listener.accept().await else {
                    continue;
                };
                let Some(target) = read_target(&mut stream).await else {
                    continue;
                };
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                if path != self.path {
                    let _ = respond(&mut stream, "404 Not Found", "Not found", "").await;
                    continue;
                }
                let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                let ours = params.get("state").is_some_and(|s| {
                    aws_lc_rs::constant_time::verify_slices_are_equal(
                        s.as_bytes(),
                        state.as_bytes(),
                    )
                    .is_ok()
                });
                if !ours {
                    let _ = respond(
                        &mut stream,
                        "400 Bad Request",
                        "Not this sign-in",
                        "This answer does not belong to the sign-in in progress; it is ignored.",
                    )
                    .await;
                    continue;
                }
                let (status, title, text) = match judge(&params) {
                    Ok(()) => (
                        "200 OK",
                        "Signed in",
                        "You can close this tab and return to the application.".to_owned(),
                    ),
                    Err(why) => ("400 Bad Request", "Sign-in failed", why),
                };
                let _ = respond(&mut stream, status, title, &text).await;
                return params;
            }
        };
        tokio::time::timeout(timeout, accept).await.map_err(|_| {
            ClientError::auth(format!(
                "no answer from the browser within {} s (the sign-in was not completed)",
                timeout.as_secs()
            ))
        })
    }
}

/// The request target of a GET, from its head.
async fn read_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next()?.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_owned()),
        _ => None,
    }
}

async fn respond(
    stream: &mut tokio::net::TcpStream,
    status: &str,
    title: &str,
    text: &str,
) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto}}</style>\
         </head><body><h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\ncontent-security-policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Checks an authorization response: an error, the `state`, the RFC 9207 `iss`, a code.
pub(crate) fn judge(
    p: &HashMap<String, String>,
    state: &str,
    issuer: &str,
    iss_advertised: bool,
) -> Result<(), String> {
    if p.get("state").map(String::as_str) != Some(state) {
        return Err(
            "this answer does not belong to the sign-in in progress (its state differs): ignored"
                .into(),
        );
    }
    match p.get("iss") {
        Some(iss) if iss != issuer => {
            return Err(format!(
                "the answer comes from issuer `{}`, not `{issuer}` (RFC 9207): refused",
                super::guard::printable(iss)
            ));
        }
        None if iss_advertised => {
            return Err(format!(
                "the answer lacks the `iss` parameter that {issuer} advertises (RFC 9207): refused"
            ));
        }
        _ => {}
    }
    if let Some(e) = p.get("error") {
        let e = super::guard::printable(e);
        return Err(match p.get("error_description") {
            Some(d) => format!(
                "the authorization server answered {e}: {}",
                super::guard::printable(d)
            ),
            None => format!("the authorization server answered {e}"),
        });
    }
    if p.get("code").is_none_or(String::is_empty) {
        return Err("the answer carries no authorization code".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn answers_are_judged_by_state_issuer_and_code() {
        let ok = params(&[("code", "c"), ("state", "s"), ("iss", "https://as")]);
        assert!(judge(&ok, "s", "https://as", true).is_ok());
        assert!(
            judge(&ok, "t", "https://as", true)
                .expect_err("refused")
                .contains("state")
        );
        assert!(
            judge(&ok, "s", "https://other", false)
                .expect_err("refused")
                .contains("RFC 9207")
        );
        let no_iss = params(&[("code", "c"), ("state", "s")]);
        assert!(judge(&no_iss, "s", "https://as", false).is_ok());
        assert!(
            judge(&no_iss, "s", "https://as", true)
                .expect_err("refused")
                .contains("lacks")
        );
        let denied = params(&[("error", "access_denied"), ("state", "s")]);
        assert!(
            judge(&denied, "s", "https://as", false)
                .expect_err("refused")
                .contains("access_denied")
        );
    }
}
