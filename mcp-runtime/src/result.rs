//! What a tool returns: [`IntoToolResult`], [`CallToolResult`], [`Content`] and [`Json`].

use std::borrow::Cow;
use std::fmt::Display;

use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::Value;

pub use crate::model::content::{CallToolResult, Content, ResourceContents};

/// Structured output: `T` is serialized into `structuredContent` (and, for older clients, a
/// text copy), and its JSON Schema becomes the tool's `outputSchema`.
///
/// `T`'s schema must be an object (a struct or a map), as the MCP specification requires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// Converts a tool's return value into a `tools/call` result.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an MCP tool",
    label = "not a tool result",
    note = "return a String (text), `Json<T>` (structured output), `Content`, `Vec<Content>`, \
            `CallToolResult`, a number or bool, or `Result<_, E>` of these where `E: Display`"
)]
pub trait IntoToolResult {
    /// The `outputSchema` this type promises, if any.
    fn output_schema() -> Option<Schema> {
        None
    }
    /// Converts the value.
    fn into_tool_result(self) -> CallToolResult;
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success([self])
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success([Content::text(self)])
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success([Content::text(self)])
    }
}

impl IntoToolResult for Cow<'_, str> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success([Content::text(self)])
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::default()
    }
}

macro_rules! display_results {
    ($($t:ty),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> CallToolResult {
                CallToolResult::success([Content::text(self.to_string())])
            }
        }
    )*};
}
display_results!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char
);

impl<T: IntoToolResult, E: Display> IntoToolResult for Result<T, E> {
    fn output_schema() -> Option<Schema> {
        T::output_schema()
    }
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => CallToolResult::error(e.to_string()),
        }
    }
}

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn output_schema() -> Option<Schema> {
        let mut schema = crate::schema::settings()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>();
        schema.remove("$schema");
        (schema.get("type").and_then(Value::as_str) == Some("object")).then_some(schema)
    }
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value @ Value::Object(_)) => {
                let text = value.to_string();
                CallToolResult::success([Content::text(text)]).with_structured(value)
            }
            Ok(other) => CallToolResult::success([Content::text(other.to_string())]),
            Err(e) => {
                CallToolResult::error(format!("the tool's output could not be serialized: {e}"))
            }
        }
    }
}

/// A tool failure with a message for the model; returned as `Err(ToolError)` it becomes an
/// `isError` result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    message: String,
}

impl ToolError {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError { message }
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError {
            message: message.to_owned(),
        }
    }
}
