//! What a client reads from a server: its identity and capabilities, tools, call results.

use serde::{Deserialize, Serialize};
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
    pub implementation: Map<String, Value>,
    /// Its instructions for the model, if any.
    #[serde(default)]
    pub instructions: Option<String>,
}

impl ServerInfo {
    /// The server's name.
    pub fn name(&self) -> &str {
        self.implementation
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The server's version.
    pub fn version(&self) -> &str {
        self.implementation
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
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

/// One piece of a tool result's content.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image, base64-encoded.
    Image {
        /// The bytes, base64.
        data: String,
        /// Its media type.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// Audio, base64-encoded.
    Audio {
        /// The bytes, base64.
        data: String,
        /// Its media type.
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    /// A link to a resource.
    ResourceLink {
        /// The resource's URI.
        uri: String,
        /// Its name.
        #[serde(default)]
        name: Option<String>,
        /// Its media type.
        #[serde(default, rename = "mimeType")]
        mime_type: Option<String>,
    },
    /// An embedded resource (`uri` with `text` or `blob`).
    Resource {
        /// The resource.
        resource: Value,
    },
    /// A kind this client does not know, kept as sent.
    #[serde(untagged)]
    Other(Value),
}

impl Content {
    /// The text, for text content.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text } => Some(text),
            _ => None,
        }
    }
}

/// The answer to `tools/call`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolResult {
    /// The content blocks.
    #[serde(default)]
    pub content: Vec<Content>,
    /// The structured result, for tools with an output schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool failed (its content says why).
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResult {
    /// The text blocks, joined by newlines.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(Content::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RpcError {
    /// The code (`-32602` invalid params, `-32601` method not found, ...).
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// More, if the server said more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with this code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (JSON-RPC error {})", self.message, self.code)
    }
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
