//! Client ID Metadata Documents (the MCP authorization specification's preferred client
//! registration, draft-ietf-oauth-client-id-metadata-document): a `client_id` that is an https
//! URL names the document that describes the client; this server fetches it, checks it and
//! keeps it as long as its HTTP caching headers say.
//!
//! Fetching a URL a stranger chose is the classic server-side request forgery, so the fetch is
//! fenced: https only; a URL with a path and no fragment, credentials or dot segments; the host
//! resolved first, every address public (loopback, private, link-local, unique-local, shared,
//! multicast and reserved ranges refused unless the operator allows private networks), and the
//! connection pinned to the checked address (no second resolution an attacker's DNS could
//! answer differently); no redirects; at most 16 KiB in 5 seconds. The document must name
//! itself as `client_id`, list its redirect URIs, and be a public client (`none`). Failures are
//! remembered for 30 seconds, so a bad URL costs one fetch however often it is presented.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What a checked document says of its client (a public client, always).
#[derive(Clone)]
pub(super) struct Described {
    /// The name to show: the document's, with the host that vouches for it.
    pub(super) name: String,
    pub(super) redirect_uris: Vec<String>,
    /// Whether it listed the refresh-token grant.
    pub(super) refresh: bool,
}

/// The largest document read.
const MAX_DOCUMENT: usize = 16 * 1024;
/// How long a fetch may take, all told.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a document without caching headers is kept.
const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The bounds of a document's own `max-age`.
const MIN_TTL: Duration = Duration::from_secs(30);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a failure is remembered.
const FAILURE_TTL: Duration = Duration::from_secs(30);
/// At most this many documents (and failures) are kept.
const MAX_CACHED: usize = 1000;

/// The operator's settings for client metadata documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CimdSettings {
    /// Whether `client_id` URLs are accepted (`MCP_OAUTH_CIMD`, default on).
    pub(crate) enabled: bool,
    /// Whether documents may be fetched from loopback and private addresses
    /// (`MCP_OAUTH_CIMD_ALLOW_PRIVATE`; for clients inside one network, and tests).
    pub(crate) allow_private: bool,
    /// More root certificates (PEM) to trust when fetching (`MCP_OAUTH_CIMD_CA_FILE`: a
    /// company's own certificate authority).
    pub(crate) extra_roots: Option<String>,
}

impl Default for CimdSettings {
    fn default() -> Self {
        CimdSettings {
            enabled: true,
            allow_private: false,
            extra_roots: None,
        }
    }
}

/// The documents of one authorization server: fetched on first use, kept per their caching
/// headers.
pub(super) struct Documents {
    settings: CimdSettings,
    roots: Vec<reqwest::Certificate>,
    cache: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    until: Instant,
    made: Instant,
    outcome: Result<Described, String>,
}

impl Documents {
    pub(super) fn new(settings: CimdSettings) -> Result<Self, String> {
        let roots = match &settings.extra_roots {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| format!("the certificates are not PEM ({e})"))?,
            None => Vec::new(),
        };
        Ok(Documents {
            settings,
            roots,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `client_id` is one this server resolves as a document (a URL; one that is not
    /// https is then refused, saying so).
    pub(super) fn names_document(client_id: &str) -> bool {
        client_id.starts_with("https://") || client_id.starts_with("http://")
    }

    /// The client the document at `url` describes, from the cache or fetched now; `Err`
    /// says what is wrong (for the user's error page and the client's `invalid_client`).
    pub(super) async fn client(&self, url: &str) -> Result<Described, String> {
        let now = Instant::now();
        if let Some(c) = self.lock().get(url)
            && c.until > now
        {
            return c.outcome.clone();
        }
        let fetched = self.fetch(url).await;
        let (outcome, ttl) = match fetched {
            Ok((client, ttl)) => (Ok(client), ttl),
            Err(e) => {
                tracing::info!(target: "mcp_runtime::auth", client_id = %url, "client metadata document refused: {e}");
                (Err(e), Some(FAILURE_TTL))
            }
        };
        if let Some(ttl) = ttl {
            let mut cache = self.lock();
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, c| c.until > now);
                if cache.len() >= MAX_CACHED
                    && let Some(oldest) = cache
                        .iter()
                        .min_by_key(|(_, c)| c.made)
                        .map(|(k, _)| k.clone())
                {
                    cache.remove(&oldest);
                }
            }
            cache.insert(
                url.to_owned(),
                Cached {
                    until: now + ttl,
                    made: now,
                    outcome: outcome.clone(),
                },
            );
        }
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fetches and checks the document; the time to keep it (`None`: not at all).
    async fn fetch(&self, url: &str) -> Result<(Described, Option<Duration>), String> {
        let parsed = check_url(url)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addr = self.resolve(&parsed, &host, port).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .no_proxy()
            .connect_timeout(FETCH_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("mcp-runtime/", env!("CARGO_PKG_VERSION")));
        if parsed
            .host()
            .is_some_and(|h| matches!(h, url::Host::Domain(_)))
        {
            // The checked address, and no other: the name is not resolved again.
            builder = builder.resolve(&host, addr);
        }
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder
            .build()
            .map_err(|e| format!("no HTTP client for the fetch ({e})"))?;
        let resp = crate::auth::outgoing::send(http.get(url).header("accept", "application/json"))
            .await
            .map_err(|e| {
                format!(
                    "the client metadata document at {url} could not be fetched ({})",
                    if e.is_timeout() {
                        "it took too long".to_owned()
                    } else {
                        // The causes say what failed: the TLS certificate, the connection.
                        crate::model::Report(&e).to_string()
                    }
                )
            })?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(format!(
                "the client metadata document at {url} redirects (HTTP {}); redirects are not \
                 followed: serve the document at the client_id URL itself",
                status.as_u16()
            ));
        }
        if !status.is_success() {
            return Err(format!(
                "the client metadata document at {url} answered HTTP {}",
                status.as_u16()
            ));
        }
        let ttl = ttl_of(
            resp.headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
        );
        let body = bounded(resp, url).await?;
        let client = parse_document(url, &host, &body)?;
        Ok((client, ttl))
    }

    /// The address to connect to: the IP literal, or the name's first address once every
    /// address it resolves to is allowed.
    async fn resolve(&self, url: &url::Url, host: &str, port: u16) -> Result<SocketAddr, String> {
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            _ => tokio::time::timeout(FETCH_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| format!("resolving {host} took too long"))?
                .map_err(|e| format!("{host} does not resolve ({e})"))?
                .collect(),
        };
        let Some(first) = addrs.first().copied() else {
            return Err(format!("{host} resolves to no address"));
        };
        if !self.settings.allow_private
            && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
        {
            return Err(format!(
                "{host} resolves to {}, which is not a public address; this server does not \
                 fetch client metadata documents from private networks \
                 (MCP_OAUTH_CIMD_ALLOW_PRIVATE=true allows it)",
                bad.ip()
            ));
        }
        Ok(first)
    }
}

/// What a `client_id` URL must be (the draft's §3): https, with a path, without a fragment,
/// credentials, or `.`/`..` segments.
pub(super) fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("client_id `{url}` is not a URL ({e})"))?;
    if parsed.scheme() != "https" {
        return Err(format!("client_id `{url}` must be an https URL"));
    }
    if parsed.fragment().is_some() {
        return Err(format!("client_id `{url}` must not have a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("client_id `{url}` must not carry credentials"));
    }
    if parsed.path() == "/" || parsed.path().is_empty() {
        return Err(format!(
            "client_id `{url}` must have a path (the document's, e.g. /client.json)"
        ));
    }
    // The URL parser resolves dot segments: one that changed names another document.
    let raw_path = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
    if raw_path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(format!(
            "client_id `{url}` must not have `.` or `..` segments"
        ));
    }
    Ok(parsed)
}

/// Whether a fetch may reach `ip`: not loopback, private, link-local, shared, unique-local,
/// multicast, documentation or otherwise reserved.
pub(super) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared (CGNAT)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || o[0] >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b)) // NAT64 (reaches IPv4 ranges)
        }
    }
}

/// How long to keep a document, from its `Cache-Control`: not at all for `no-store`,
/// `no-cache` or `max-age=0`; its `max-age` within 30 s to a day; five minutes without one.
pub(super) fn ttl_of(cache_control: Option<&str>) -> Option<Duration> {
    let Some(cc) = cache_control else {
        return Some(DEFAULT_TTL);
    };
    let mut ttl = DEFAULT_TTL;
    for d in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if d == "no-store" || d == "no-cache" {
            return None;
        }
        if let Some(v) = d.strip_prefix("max-age=") {
            match v.trim_matches('"').parse::<u64>() {
                Ok(0) => return None,
                Ok(s) => ttl = Duration::from_secs(s).clamp(MIN_TTL, MAX_TTL),
                Err(_) => {}
            }
        }
    }
    Some(ttl)
}

async fn bounded(mut resp: reqwest::Response, url: &str) -> Result<Vec<u8>, String> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT as u64)
    {
        return Err(format!(
            "the client metadata document at {url} is larger than {MAX_DOCUMENT} bytes"
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("the client metadata document at {url} broke off ({e})"))?
    {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(format!(
                "the client metadata document at {url} is larger than {MAX_DOCUMENT} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The client a document describes, checked: a JSON object naming `url` as its `client_id`,
/// with redirect URIs, a public client. Its name is shown with the host that vouches for it.
pub(super) fn parse_document(url: &str, host: &str, body: &[u8]) -> Result<Described, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the client metadata document at {url} is not JSON ({e})"))?;
    let Some(doc) = doc.as_object() else {
        return Err(format!(
            "the client metadata document at {url} is not a JSON object"
        ));
    };
    match doc.get("client_id").and_then(Value::as_str) {
        Some(id) if id == url => {}
        Some(id) => {
            return Err(format!(
                "the client metadata document at {url} names another client_id (`{}`); it \
                 must be its own URL",
                printable(id)
            ));
        }
        None => {
            return Err(format!(
                "the client metadata document at {url} has no client_id"
            ));
        }
    }
    let redirect_uris: Vec<String> = match doc.get("redirect_uris") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 20 => a
            .iter()
            .map(|u| {
                let u = u.as_str().ok_or("a redirect URI is not a string")?;
                let p = url::Url::parse(u).map_err(|_| "a redirect URI is not a URL")?;
                if p.fragment().is_some() {
                    return Err("a redirect URI has a fragment");
                }
                Ok(u.to_owned())
            })
            .collect::<Result<_, &str>>()
            .map_err(|e| format!("the client metadata document at {url}: {e}"))?,
        _ => {
            return Err(format!(
                "the client metadata document at {url} must list 1 to 20 redirect_uris"
            ));
        }
    };
    match doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(other) => {
            return Err(format!(
                "the client metadata document at {url} asks for token_endpoint_auth_method \
                 `{}`; this server takes public clients only (`none`, with PKCE)",
                printable(other)
            ));
        }
    }
    let grants: Vec<&str> = match doc.get("grant_types") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec!["authorization_code"],
    };
    if !grants.contains(&"authorization_code") {
        return Err(format!(
            "the client metadata document at {url} does not list the authorization_code grant"
        ));
    }
    let name = doc
        .get("client_name")
        .and_then(Value::as_str)
        .map(printable)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect::<String>());
    Ok(Described {
        // The host vouches for the name: a document anyone can publish cannot pass for
        // another product without showing where it lives.
        name: match name {
            Some(n) => format!("{n} ({host})"),
            None => host.to_owned(),
        },
        redirect_uris,
        refresh: grants.contains(&"refresh_token"),
    })
}

/// Text from a document, without control characters.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_urls_follow_the_rules() {
        assert!(check_url("https://app.example.com/client.json").is_ok());
        assert!(check_url("https://app.example.com/c?v=1").is_ok());
        for (bad, says) in [
            ("http://app.example.com/client.json", "https"),
            ("https://app.example.com", "path"),
            ("https://app.example.com/", "path"),
            ("https://app.example.com/c#x", "fragment"),
            ("https://u:p@app.example.com/c", "credentials"),
            ("https://app.example.com/a/../c", "`..`"),
            ("https://app.example.com/./c", "`.`"),
            ("not a url", "not a URL"),
        ] {
            let e = check_url(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn only_public_addresses_are_fetched() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn caching_follows_the_headers_within_bounds() {
        assert_eq!(ttl_of(None), Some(DEFAULT_TTL));
        assert_eq!(ttl_of(Some("no-store")), None);
        assert_eq!(ttl_of(Some("public, max-age=0")), None);
        assert_eq!(ttl_of(Some("max-age=5")), Some(MIN_TTL));
        assert_eq!(ttl_of(Some("max-age=600")), Some(Duration::from_secs(600)));
        assert_eq!(ttl_of(Some("max-age=99999999")), Some(MAX_TTL));
    }

    #[test]
    fn documents_are_checked() {
        let url = "https://app.example.com/client.json";
        let ok = parse_document(
            url,
            "app.example.com",
            br#"{"client_id":"https://app.example.com/client.json","client_name":"App","redirect_uris":["http://127.0.0.1:3334/cb"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}"#,
        )
        .expect("valid");
        assert_eq!(ok.name, "App (app.example.com)");
        assert!(ok.refresh);
        for (doc, says) in [
            (&br#"[]"#[..], "not a JSON object"),
            (br#"{"redirect_uris":["https://a/cb"]}"#, "no client_id"),
            (
                br#"{"client_id":"https://evil.example/c","redirect_uris":["https://a/cb"]}"#,
                "names another client_id",
            ),
            (
                br#"{"client_id":"https://app.example.com/client.json"}"#,
                "redirect_uris",
            ),
            (
                br#"{"client_id":"https://app.example.com/client.json","redirect_uris":["https://a/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
                "public clients only",
            ),
            (
                br#"{"client_id":"https://app.example.com/client.json","redirect_uris":["https://a/cb"],"grant_types":["client_credentials"]}"#,
                "authorization_code",
            ),
        ] {
            let e = parse_document(url, "app.example.com", doc)
                .err()
                .unwrap_or_else(|| panic!("accepted: {says}"));
            assert!(e.contains(says), "{says}: {e}");
        }
    }
}
