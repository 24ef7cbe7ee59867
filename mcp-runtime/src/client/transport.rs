//! Streamable HTTP, the client's side: POST a message and read a JSON answer or an SSE
//! stream; GET the server's stream (with `Last-Event-ID` to resume); DELETE the session. Or
//! stdio (`super::stdio`), behind the same three calls.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Value;

use super::ClientError;
use super::auth::Challenge;
use super::sse::{Event, Parser};

/// What the server answered to one HTTP request.
pub(crate) enum Reply {
    /// 202: a notification or response was accepted.
    Accepted,
    /// A JSON body.
    Json(Value),
    /// An SSE stream of messages.
    Stream(Box<EventStream>),
    /// An HTTP error status, with the Bearer challenge if any.
    Refused {
        status: u16,
        challenge: Option<Challenge>,
        body: String,
    },
}

/// A reply and the session id the server assigned, if it did.
pub(crate) struct Response {
    pub(crate) reply: Reply,
    pub(crate) session_id: Option<String>,
}

/// The HTTP (or stdio) side of a client.
#[derive(Clone)]
pub(crate) struct Transport {
    kind: Kind,
    /// The endpoint, or `stdio:<command>`.
    pub(crate) url: String,
}

#[derive(Clone)]
enum Kind {
    Http(reqwest::Client),
    Stdio(std::sync::Arc<super::stdio::Pipe>),
    /// The legacy HTTP+SSE transport: messages POSTed to `endpoint`, answers on the stream.
    Legacy {
        http: reqwest::Client,
        pipe: std::sync::Arc<super::stdio::Pipe>,
        endpoint: String,
    },
}

/// Longest error body kept for messages.
const MAX_ERROR_BODY: usize = 4096;

impl Transport {
    pub(crate) fn new(url: String) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mcp-runtime-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::http("no HTTP client", e))?;
        Ok(Transport {
            kind: Kind::Http(http),
            url,
        })
    }

    /// A transport to a server this client starts and speaks to over stdio.
    pub(crate) fn stdio(cmd: &super::stdio::StdioCommand) -> Result<Self, ClientError> {
        let pipe = super::stdio::Pipe::spawn(cmd)?;
        Ok(Transport {
            url: format!("stdio:{}", pipe.label()),
            kind: Kind::Stdio(pipe),
        })
    }

    /// Whether the server is a child process on stdio.
    pub(crate) fn is_stdio(&self) -> bool {
        matches!(self.kind, Kind::Stdio(_))
    }

    /// Whether every message of the server comes on one pipe (stdio, legacy SSE), read from
    /// the start.
    pub(crate) fn is_piped(&self) -> bool {
        !matches!(self.kind, Kind::Http(_))
    }

    /// Whether this is the legacy HTTP+SSE transport.
    pub(crate) fn is_legacy(&self) -> bool {
        matches!(self.kind, Kind::Legacy { .. })
    }

    /// The same URL spoken to with the legacy HTTP+SSE transport (2024-11-05), if the server
    /// offers it there.
    pub(crate) async fn legacy(
        &self,
        headers: &[(String, String)],
    ) -> Result<Option<Self>, ClientError> {
        let Kind::Http(http) = &self.kind else {
            return Ok(None);
        };
        Ok(super::stdio::Pipe::legacy_sse(http, &self.url, headers)
            .await?
            .map(|(pipe, endpoint)| Transport {
                kind: Kind::Legacy {
                    http: http.clone(),
                    pipe,
                    endpoint,
                },
                url: self.url.clone(),
            }))
    }

    /// POSTs one JSON-RPC message (over stdio: writes it; a request's answer arrives as a
    /// stream).
    pub(crate) async fn post(
        &self,
        message: &Value,
        headers: &[(String, String)],
    ) -> Result<Response, ClientError> {
        let http = match &self.kind {
            Kind::Http(http) => http,
            Kind::Stdio(pipe) => {
                let reply = match pipe.send(message).await? {
                    Some(rx) => Reply::Stream(Box::new(EventStream::channel(rx, pipe.clone()))),
                    None => Reply::Accepted,
                };
                return Ok(Response {
                    reply,
                    session_id: None,
                });
            }
            Kind::Legacy {
                http,
                pipe,
                endpoint,
            } => {
                let rx = pipe.expect_answer(message);
                let mut rb = http
                    .post(endpoint)
                    .header("content-type", "application/json");
                for (k, v) in headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                let sent = rb.json(message).send().await.map_err(unreachable(endpoint));
                let resp = match sent {
                    Ok(r) => r,
                    Err(e) => {
                        pipe.forget(message);
                        return Err(e);
                    }
                };
                if !resp.status().is_success() {
                    pipe.forget(message);
                    return read(resp).await;
                }
                let reply = match rx {
                    Some(rx) => Reply::Stream(Box::new(EventStream::channel(rx, pipe.clone()))),
                    None => Reply::Accepted,
                };
                return Ok(Response {
                    reply,
                    session_id: None,
                });
            }
        };
        let mut rb = http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let body = serde_json::to_vec(message)
            .map_err(|e| ClientError::Protocol(format!("unserializable message: {e}")))?;
        let resp = rb.body(body).send().await.map_err(unreachable(&self.url))?;
        read(resp).await
    }

    /// Opens the server's stream (`GET`), resuming after `last_event_id` if given.
    pub(crate) async fn get(
        &self,
        headers: &[(String, String)],
        last_event_id: Option<&str>,
    ) -> Result<Response, ClientError> {
        let http = match &self.kind {
            Kind::Http(http) => http,
            // The server's own messages, once; there is nothing to resume.
            Kind::Stdio(pipe) | Kind::Legacy { pipe, .. } => {
                let reply = match pipe.take_general() {
                    Some(rx) => Reply::Stream(Box::new(EventStream::channel(rx, pipe.clone()))),
                    None => Reply::Refused {
                        status: 405,
                        challenge: None,
                        body: String::new(),
                    },
                };
                return Ok(Response {
                    reply,
                    session_id: None,
                });
            }
        };
        let mut rb = http.get(&self.url).header("accept", "text/event-stream");
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(id) = last_event_id {
            rb = rb.header("last-event-id", id);
        }
        let resp = rb.send().await.map_err(unreachable(&self.url))?;
        read(resp).await
    }

    /// Ends the session (`DELETE`); errors are not worth reporting.
    pub(crate) async fn delete(&self, headers: &[(String, String)]) {
        let http = match &self.kind {
            Kind::Http(http) => http,
            Kind::Stdio(pipe) | Kind::Legacy { pipe, .. } => return pipe.close().await,
        };
        let mut rb = http.delete(&self.url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let _ = rb.timeout(Duration::from_secs(5)).send().await;
    }
}

fn unreachable(url: &str) -> impl Fn(reqwest::Error) -> ClientError + '_ {
    move |e| {
        let why = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection refused or failed"
        } else {
            "request failed"
        };
        ClientError::http(format!("{url}: {why}"), e)
    }
}

async fn read(resp: reqwest::Response) -> Result<Response, ClientError> {
    let status = resp.status().as_u16();
    let session_id = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let reply = if !(200..300).contains(&status) {
        let nonce = resp
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let challenge = resp
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(Challenge::parse)
            .map(|mut c| {
                c.dpop_nonce = nonce;
                c
            });
        let mut body = resp.text().await.unwrap_or_default();
        body.truncate(MAX_ERROR_BODY);
        Reply::Refused {
            status,
            challenge,
            body,
        }
    } else if status == 202 || status == 204 {
        Reply::Accepted
    } else if content_type.starts_with("text/event-stream") {
        Reply::Stream(Box::new(EventStream::new(resp)))
    } else {
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::http("the answer broke off", e))?;
        if bytes.is_empty() {
            Reply::Accepted
        } else {
            Reply::Json(serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::Protocol(format!("the server's answer is not JSON ({e})"))
            })?)
        }
    };
    Ok(Response { reply, session_id })
}

/// Where a stream's messages come from.
enum Source {
    /// An SSE body.
    Sse(Box<(reqwest::Response, Parser)>),
    /// The messages a stdio server sent for one call (or outside any).
    Stdio(
        tokio::sync::mpsc::Receiver<Value>,
        std::sync::Arc<super::stdio::Pipe>,
    ),
}

/// The longest `retry` a server's stream may ask the client to wait before resuming.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(60);

/// The messages of an SSE answer (or, over stdio, of one call), with the stream's last event
/// id and retry delay.
pub(crate) struct EventStream {
    source: Source,
    pending: VecDeque<Event>,
    /// The last event id seen (for `Last-Event-ID` when resuming).
    pub(crate) last_id: Option<String>,
    /// The server's `retry` (how long to wait before reconnecting).
    pub(crate) retry: Option<Duration>,
}

impl EventStream {
    fn new(resp: reqwest::Response) -> Self {
        EventStream {
            source: Source::Sse(Box::new((resp, Parser::default()))),
            pending: VecDeque::new(),
            last_id: None,
            retry: None,
        }
    }

    fn channel(
        rx: tokio::sync::mpsc::Receiver<Value>,
        pipe: std::sync::Arc<super::stdio::Pipe>,
    ) -> Self {
        EventStream {
            source: Source::Stdio(rx, pipe),
            pending: VecDeque::new(),
            last_id: None,
            retry: None,
        }
    }

    /// The next JSON-RPC message, or `None` when the stream ends.
    pub(crate) async fn next(&mut self) -> Result<Option<Value>, ClientError> {
        loop {
            while let Some(e) = self.pending.pop_front() {
                if let Some(id) = e.id {
                    self.last_id = Some(id);
                }
                if let Some(ms) = e.retry {
                    // A server cannot park the client for ever: at most a minute.
                    self.retry = Some(Duration::from_millis(ms).min(MAX_RETRY));
                }
                if e.data.is_empty() || e.event != "message" {
                    continue;
                }
                let v = serde_json::from_str(&e.data).map_err(|err| {
                    ClientError::Protocol(format!("an SSE event is not JSON ({err})"))
                })?;
                return Ok(Some(v));
            }
            let (resp, parser) = match &mut self.source {
                Source::Sse(sse) => (&mut sse.0, &mut sse.1),
                Source::Stdio(rx, pipe) => {
                    return match rx.recv().await {
                        Some(v) => Ok(Some(v)),
                        None => Err(ClientError::Protocol(pipe.gone_reason())),
                    };
                }
            };
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    let events = parser
                        .feed(&bytes)
                        .map_err(|_| ClientError::Protocol("an SSE event exceeds 16 MiB".into()))?;
                    self.pending.extend(events);
                }
                Ok(None) | Err(_) => return Ok(None),
            }
        }
    }
}
