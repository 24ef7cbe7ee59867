//! Starts a rotation of the embedded authorization server's signing key (the dev server's
//! or the OAuth proxy's) in the store every replica shares:
//!
//! ```sh
//! MCP_STORE_URL=redis://redis.internal:6379 cargo run --example rotate_signing_key -- 3660
//! ```
//!
//! With the replicas' `MCP_STORE_ENCRYPTION_KEY` set too, the key ring stays encrypted.
//!
//! The new key is published at once and starts signing after the given number of seconds
//! (default 3660: the JWKS's one-hour cache plus a minute), so no verifier meets a key it has
//! not fetched; keys older than the one signing now are dropped. Replicas pick the change up
//! within 30 seconds, with no restart.

use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::var("MCP_STORE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!(
            "MCP_STORE_URL is not set: name the store the servers share (redis://… or a file)"
        );
        return ExitCode::from(2);
    };
    let publish_for = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        None => Duration::from_secs(3660),
        Some(Ok(secs)) => Duration::from_secs(secs),
        Some(Err(_)) => {
            eprintln!("the argument is the publication time in seconds, e.g. 3660");
            return ExitCode::from(2);
        }
    };
    let unset = || Err(mcp_runtime::store::StoreError::new("not set"));
    let store = match mcp_runtime::store::open(Some(&url), unset) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("MCP_STORE_URL: {}", mcp_runtime::model::Report(&e));
            return ExitCode::from(1);
        }
    };
    // The replicas' MCP_STORE_ENCRYPTION_KEY, when they have one: the ring stays encrypted.
    let key = match std::env::var("MCP_STORE_ENCRYPTION_KEY")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(v) => match URL_SAFE_NO_PAD
            .decode(v.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
        {
            Some(k) => Some(k),
            None => {
                eprintln!("MCP_STORE_ENCRYPTION_KEY must be 32 bytes in base64url");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    match mcp_runtime::providers::rotate_signing_key(&*store, key.as_ref(), publish_for).await {
        Ok(kid) => {
            println!(
                "new signing key {kid}: published now, signing in {}s ({})",
                publish_for.as_secs(),
                store.describe()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
