//! Redirect-URI checks and matching (RFC 8252 §7.3): a registered URI and a given one,
//! separated by a newline. Beyond "no panic", the properties that keep codes from leaking:
//! a match is the registered URI itself or the same loopback URI on another port.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime::__fuzz::{check_redirect_uri, redirect_uri_matches};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (registered, given) = text.split_once('\n').unwrap_or((text, text));
    let matched = redirect_uri_matches(registered, given);
    // Registration refuses what the redirect check refuses: only those are ever matched against.
    if !matched || registered == given || check_redirect_uri(registered).is_err() {
        return;
    }
    let r = url::Url::parse(registered).expect("a matched registered URI parses");
    let mut g = url::Url::parse(given).expect("a matched given URI parses");
    assert_eq!(
        g.scheme(),
        "http",
        "only loopback http URIs match on another port"
    );
    assert!(
        matches!(g.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
        "{given} is not loopback"
    );
    assert!(g.fragment().is_none() && g.username().is_empty() && g.password().is_none());
    g.set_port(r.port()).expect("an http URL takes a port");
    assert_eq!(
        g, r,
        "{given} matched {registered} but differs beyond the port"
    );
    assert!(
        check_redirect_uri(given).is_ok(),
        "{given} matched a valid URI but is invalid"
    );
});
