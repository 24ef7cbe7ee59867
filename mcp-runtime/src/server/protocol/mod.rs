//! The protocol side of the server: JSON-RPC messages and replies, dispatch by method,
//! tool calls and what they share with their context, and sessions. Nothing here knows HTTP.

pub(crate) mod ask;
pub(crate) mod call;
pub(crate) mod catalog;
pub(crate) mod client_request;
pub(crate) mod completion;
pub(crate) mod discover;
pub(crate) mod dispatch;
pub(crate) mod elicitation;
pub(crate) mod input;
pub(crate) mod items;
pub(crate) mod jsonrpc;
pub(crate) mod keyed;
pub(crate) mod listen;
pub(crate) mod listing;
pub(crate) mod logging;
pub(crate) mod modern;
pub(crate) mod outgoing;
pub(crate) mod pending;
pub(crate) mod prompts;
pub(crate) mod replay;
pub(crate) mod resources;
pub(crate) mod sampling;
pub(crate) mod scope;
pub(crate) mod session;
pub(crate) mod shared_sessions;
pub(crate) mod state;
pub(crate) mod task_run;
pub(crate) mod tasks;
pub(crate) mod tool_call;
pub(crate) mod trace;

/// A random number drawn once per process, which tells this replica's event ids and
/// server-to-client request ids apart from another replica's in the same shared session: an
/// id one replica sent, brought to another, names nothing there (a clear refusal), never
/// another call's events or another request's answer.
pub(crate) fn instance() -> u64 {
    static INSTANCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *INSTANCE.get_or_init(|| {
        let mut b = [0u8; 8];
        // Without the OS's randomness the time still differs between replicas.
        if getrandom::fill(&mut b).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            b = (nanos as u64 ^ u64::from(std::process::id())).to_le_bytes();
        }
        u64::from_le_bytes(b)
    })
}
