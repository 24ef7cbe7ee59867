//! The protocol versions: which this crate speaks, the newest, and the one assumed without a
//! header.

/// The protocol versions spoken here (server and client), newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The newest supported protocol version, offered when a client asks for an unknown one.
pub const LATEST_PROTOCOL_VERSION: &str = SUPPORTED_PROTOCOL_VERSIONS[0];
/// The version assumed when a request carries no `MCP-Protocol-Version` header and no session.
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-03-26";

/// Maps a version string to the supported version it names.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn supported_version(v: &str) -> Option<&'static str> {
    SUPPORTED_PROTOCOL_VERSIONS.into_iter().find(|s| *s == v)
}
