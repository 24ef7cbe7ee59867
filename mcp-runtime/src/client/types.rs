//! What a client reads from a server: its identity and capabilities, tools, call results.

use serde::{Deserialize, Serialize};

pub use crate::model::content::CallToolResult as ToolResult;
pub use crate::model::{Content, Implementation, ResourceContents, RpcError};
use serde_json::{Map, Value, json};

/// The protocol revisions this client speaks, newest first. It offers the first and accepts
/// any of them in the server's answer.
pub const PROTOCOL_VERSIONS: &[&str] = &crate::model::SUPPORTED_PROTOCOL_VERSIONS;

/// Who the server is, from its `initialize` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServerInfo {
    /// The negotiated protocol revision.
    pub protocol_version: String,
    /// The server's capabilities (`tools`, `resources`, `prompts`, `logging`, ...).
    #[serde(default)]
    pub capabilities: Map<String, Value>,
    /// Its `serverInfo` (`name`, `version`, maybe `title`).
    #[serde(default, rename = "serverInfo")]
    pub implementation: Implementation,
    /// Its instructions for the model, if any.
    #[serde(default)]
    pub instructions: Option<String>,
}

impl ServerInfo {
    /// The server's name.
    pub fn name(&self) -> &str {
        &self.implementation.name
    }

    /// The server's version.
    pub fn version(&self) -> &str {
        &self.implementation.version
    }
}

/// A tool, as `tools/list` describes it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolInfo {
    /// Its name, for `tools/call`.
    pub name: String,
    /// A display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments, exactly as the server sent it.
    #[serde(default)]
    pub input_schema: Value,
    /// The JSON Schema of its structured result, if it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Hints (`readOnlyHint`, `destructiveHint`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Everything else the server said of it (`_meta`, `icons`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Declares the tasks extension in a capabilities object.
pub(crate) fn declare_tasks(capabilities: &Value) -> Value {
    let mut caps = match capabilities {
        Value::Object(_) => capabilities.clone(),
        _ => json!({}),
    };
    if !caps["extensions"].is_object() {
        caps["extensions"] = json!({});
    }
    caps["extensions"][EXTENSION] = json!({});
    caps
}

/// The extension's name, declared in every 2026-07-28 request's capabilities.
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/tasks";
