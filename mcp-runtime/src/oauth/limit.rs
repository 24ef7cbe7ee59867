//! Rate limits on the authorization server's endpoints that anyone may call (registration,
//! authorization, token, the proxy's callback), per client address (RFC 6585: 429 with
//! `Retry-After`), with [`governor`]'s keyed GCRA limiters.
//!
//! The client address is the TCP peer's, unless the peer is a trusted reverse proxy
//! ([`RateLimits::trusted_proxies`], `MCP_TRUSTED_PROXIES`): then it is the right-most
//! address of `X-Forwarded-For` that is not itself a trusted proxy. None is trusted by
//! default, so a header a client sets is never believed.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

/// The rate limits of the embedded authorization server, per client address: each endpoint
/// allows this many requests a minute, all at once or spread out (a GCRA bucket as large as
/// the rate).
///
/// Read from the environment by the providers: `MCP_OAUTH_RATE_LIMIT` (`off`, or four
/// numbers `register,authorize,token,callback` per minute) and `MCP_TRUSTED_PROXIES`
/// (addresses or CIDR ranges of the reverse proxies whose `X-Forwarded-For` is believed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Dynamic client registrations a minute (default 30).
    pub register_per_minute: u32,
    /// Authorization requests and consent answers a minute (default 120).
    pub authorize_per_minute: u32,
    /// Token requests a minute (default 240).
    pub token_per_minute: u32,
    /// The OAuth proxy's callbacks a minute (default 120).
    pub callback_per_minute: u32,
    /// Reverse proxies (addresses, or CIDR ranges such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client; none by default.
    pub trusted_proxies: Vec<String>,
    /// Whether the limits apply at all (default true).
    pub enabled: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            register_per_minute: 30,
            authorize_per_minute: 120,
            token_per_minute: 240,
            callback_per_minute: 120,
            trusted_proxies: Vec::new(),
            enabled: true,
        }
    }
}

impl RateLimits {
    /// No limits (tests and benchmarks; never on a public server).
    pub fn off() -> Self {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// The limits per minute: registration, authorization, token, callback.
    pub fn per_minute(register: u32, authorize: u32, token: u32, callback: u32) -> Self {
        RateLimits {
            register_per_minute: register,
            authorize_per_minute: authorize,
            token_per_minute: token,
            callback_per_minute: callback,
            ..RateLimits::default()
        }
    }

    /// Believes `X-Forwarded-For` from these reverse proxies (addresses or CIDR ranges).
    pub fn trusted_proxies<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        proxies: I,
    ) -> Self {
        self.trusted_proxies = proxies.into_iter().map(Into::into).collect();
        self
    }

    /// Reads `MCP_OAUTH_RATE_LIMIT` and `MCP_TRUSTED_PROXIES`; errors are `(variable,
    /// reason)`.
    pub(crate) fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, (&'static str, String)> {
        let mut limits = RateLimits::default();
        if let Some(v) = env("MCP_OAUTH_RATE_LIMIT") {
            let v = v.trim();
            if v.eq_ignore_ascii_case("off") {
                limits.enabled = false;
            } else {
                let n: Vec<u32> = v
                    .split(',')
                    .map(|x| x.trim().parse::<u32>())
                    .collect::<Result<_, _>>()
                    .ok()
                    .filter(|n: &Vec<u32>| n.len() == 4 && n.iter().all(|x| *x > 0))
                    .ok_or((
                        "MCP_OAUTH_RATE_LIMIT",
                        format!(
                            "`{v}` is not `off` or four positive numbers of requests a minute \
                             (registration,authorization,token,callback), e.g. 30,120,240,120"
                        ),
                    ))?;
                limits = RateLimits::per_minute(n[0], n[1], n[2], n[3]);
            }
        }
        if let Some(v) = env("MCP_TRUSTED_PROXIES") {
            limits.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
        }
        limits.check().map_err(|e| ("MCP_TRUSTED_PROXIES", e))?;
        Ok(limits)
    }

    /// The trusted proxies, parsed; the first malformed one is named.
    pub(crate) fn check(&self) -> Result<Vec<(IpAddr, u8)>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                parse_cidr(p).ok_or_else(|| {
                    format!("`{p}` is not an IP address or a CIDR range such as 10.0.0.0/8")
                })
            })
            .collect()
    }
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = match text.split_once('/') {
        Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let ip = text.parse::<IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_range(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Which endpoint a request is for.
#[derive(Clone, Copy)]
pub(super) enum Endpoint {
    Register,
    Authorize,
    Token,
    Callback,
}

type Keyed = RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>;

/// The limiters, one per endpoint.
pub(super) struct Limiter {
    endpoints: Option<[Keyed; 4]>,
    trusted: Vec<(IpAddr, u8)>,
}

impl Limiter {
    pub(super) fn new(limits: &RateLimits) -> Result<Self, String> {
        let trusted = limits.check()?;
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        let endpoints = limits.enabled.then(|| {
            [
                limits.register_per_minute,
                limits.authorize_per_minute,
                limits.token_per_minute,
                limits.callback_per_minute,
            ]
            .map(|n| {
                RateLimiter::new(
                    quota(n),
                    HashMapStateStore::default(),
                    DefaultClock::default(),
                )
            })
        });
        Ok(Limiter { endpoints, trusted })
    }

    /// The client's address: the peer's, or, from a trusted proxy, the right-most untrusted
    /// address of `X-Forwarded-For`.
    pub(super) fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusted.iter().any(|t| in_range(peer, *t)) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|ip| !self.trusted.iter().any(|t| in_range(*ip, *t)))
                .unwrap_or(peer),
        )
    }

    /// `Err(seconds to wait)` when the client is over the endpoint's limit.
    pub(super) fn check(&self, endpoint: Endpoint, req: &HttpRequest) -> Result<(), u64> {
        let Some(endpoints) = &self.endpoints else {
            return Ok(());
        };
        let Some(ip) = self.client_ip(req) else {
            return Ok(());
        };
        let limiter = &endpoints[endpoint as usize];
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets addresses whose buckets are full again (bounded memory).
    pub(super) fn forget_idle(&self) {
        if let Some(endpoints) = &self.endpoints {
            for l in endpoints {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_ranges_match_what_they_cover() {
        let net = parse_cidr("10.1.0.0/16").expect("cidr");
        assert!(in_range("10.1.200.3".parse().expect("ip"), net));
        assert!(!in_range("10.2.0.1".parse().expect("ip"), net));
        assert!(in_range("::ffff:10.1.0.9".parse().expect("ip"), net));
        let one = parse_cidr("127.0.0.1").expect("ip");
        assert!(in_range("127.0.0.1".parse().expect("ip"), one));
        assert!(!in_range("127.0.0.2".parse().expect("ip"), one));
        let v6 = parse_cidr("fd00::/8").expect("cidr");
        assert!(in_range("fd12::1".parse().expect("ip"), v6));
        assert!(!in_range("fe80::1".parse().expect("ip"), v6));
        assert!(in_range(
            "8.8.8.8".parse().expect("ip"),
            parse_cidr("0.0.0.0/0").expect("all")
        ));
        for bad in ["10.0.0.0/33", "x", "10.0.0/8", "::/129", ""] {
            assert!(parse_cidr(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_environment_is_read_and_checked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(RateLimits::from_env(env(&[])), Ok(RateLimits::default()));
        assert!(
            !RateLimits::from_env(env(&[("MCP_OAUTH_RATE_LIMIT", "off")]))
                .expect("off")
                .enabled
        );
        let l = RateLimits::from_env(env(&[
            ("MCP_OAUTH_RATE_LIMIT", "1, 2,3,4"),
            ("MCP_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ]))
        .expect("valid");
        assert_eq!(
            (
                l.register_per_minute,
                l.token_per_minute,
                l.trusted_proxies.len()
            ),
            (1, 3, 2)
        );
        for bad in ["0,1,1,1", "1,2,3", "lots"] {
            let e = RateLimits::from_env(move |k: &str| {
                (k == "MCP_OAUTH_RATE_LIMIT").then(|| bad.to_owned())
            })
            .expect_err(bad);
            assert_eq!(e.0, "MCP_OAUTH_RATE_LIMIT");
        }
        let e = RateLimits::from_env(env(&[("MCP_TRUSTED_PROXIES", "10.0.0.0/40")]))
            .expect_err("bad range");
        assert!(
            e.1.contains("`10.0.0.0/40` is not an IP address or a CIDR range"),
            "{}",
            e.1
        );
    }
}
