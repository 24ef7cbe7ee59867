//! The protocol side of the server: JSON-RPC messages and replies, dispatch by method,
//! tool calls and what they share with their context, and sessions. Nothing here knows HTTP.

pub(crate) mod ask;
pub(crate) mod call;
pub(crate) mod completion;
pub(crate) mod dispatch;
pub(crate) mod elicitation;
pub(crate) mod input;
pub(crate) mod items;
pub(crate) mod jsonrpc;
pub(crate) mod listen;
pub(crate) mod listing;
pub(crate) mod modern;
pub(crate) mod outgoing;
pub(crate) mod pending;
pub(crate) mod prompts;
pub(crate) mod replay;
pub(crate) mod resources;
pub(crate) mod sampling;
pub(crate) mod session;
pub(crate) mod shared_sessions;
pub(crate) mod task_run;
pub(crate) mod tasks;
pub(crate) mod tool_call;
