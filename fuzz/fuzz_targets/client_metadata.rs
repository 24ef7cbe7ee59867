//! RFC 7591 client metadata, as `/register` checks it. Accepted metadata has 1 to 10
//! redirect URIs, each one that the redirect check accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_runtime::__fuzz::{check_redirect_uri, client_metadata};

fuzz_target!(|data: &[u8]| {
    let Ok(meta) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(uris) = client_metadata(&meta) {
        assert!((1..=10).contains(&uris.len()));
        for uri in &uris {
            assert_eq!(check_redirect_uri(uri), Ok(()));
        }
    }
});
