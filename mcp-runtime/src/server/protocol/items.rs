//! What `#[mcp_resource]` and `#[mcp_prompt]` generate against: the item traits, the
//! conversions of a function's parameters and return value, and their error messages. Not a
//! public API (reached through `__private`).

use std::fmt::Display;
use std::str::FromStr;

use super::prompts::{Prompt, PromptMessage, PromptRequest};
use super::resources::{Resource, ResourceBody, ResourceRequest};
use crate::result::{Content, Json, ToolError};

/// A resource made by `#[mcp_resource]`: its URI (or template) and scopes known at compile
/// time, for the server's checks.
pub trait ResourceDef {
    /// The URI or URI template.
    const URI: &'static str;
    /// The scopes a caller needs.
    const SCOPES: &'static [&'static str] = &[];
    /// Whether the resource needs an authenticated caller.
    const NEEDS_AUTH: bool = false;
    /// The resource.
    fn resource() -> Resource;
}

/// A prompt made by `#[mcp_prompt]`.
pub trait PromptDef {
    /// The prompt's name.
    const NAME: &'static str;
    /// The scopes a caller needs.
    const SCOPES: &'static [&'static str] = &[];
    /// Whether the prompt needs an authenticated caller.
    const NEEDS_AUTH: bool = false;
    /// The prompt.
    fn prompt() -> Prompt;
}

/// A parameter of a resource or prompt function that is not a variable or argument: the
/// caller, or the whole request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a resource or prompt function",
    label = "not a template variable, a prompt argument, `Auth` or the request",
    note = "a resource's parameters are its URI template's variables (by name), `Auth` and \
            `ResourceRequest`; a prompt's are its arguments (`String` or `Option<String>`), \
            `Auth`, `Context` and `PromptRequest`"
)]
pub trait ItemParam<R>: Sized {
    /// Whether it needs an authenticated caller.
    const NEEDS_AUTH: bool = false;
    /// Takes it from the request.
    fn extract(req: &R) -> Result<Self, ToolError>;
}

fn caller(auth: Option<&crate::auth::Auth>) -> Result<crate::auth::Auth, ToolError> {
    auth.cloned().ok_or_else(|| {
        ToolError::new("this needs an authenticated caller, but the request has none")
    })
}

impl ItemParam<ResourceRequest> for crate::auth::Auth {
    const NEEDS_AUTH: bool = true;
    fn extract(req: &ResourceRequest) -> Result<Self, ToolError> {
        caller(req.auth.as_ref())
    }
}

impl ItemParam<PromptRequest> for crate::auth::Auth {
    const NEEDS_AUTH: bool = true;
    fn extract(req: &PromptRequest) -> Result<Self, ToolError> {
        caller(req.auth.as_ref())
    }
}

/// The caller when there is one (what a public resource takes: it may be read anonymously).
impl ItemParam<ResourceRequest> for Option<crate::auth::Auth> {
    fn extract(req: &ResourceRequest) -> Result<Self, ToolError> {
        Ok(req.auth.clone())
    }
}

/// The caller when there is one (what a public prompt takes).
impl ItemParam<PromptRequest> for Option<crate::auth::Auth> {
    fn extract(req: &PromptRequest) -> Result<Self, ToolError> {
        Ok(req.auth.clone())
    }
}

impl ItemParam<PromptRequest> for crate::Context {
    fn extract(req: &PromptRequest) -> Result<Self, ToolError> {
        Ok(req.context.clone())
    }
}

impl ItemParam<ResourceRequest> for ResourceRequest {
    fn extract(req: &ResourceRequest) -> Result<Self, ToolError> {
        Ok(req.clone())
    }
}

impl ItemParam<PromptRequest> for PromptRequest {
    fn extract(req: &PromptRequest) -> Result<Self, ToolError> {
        Ok(req.clone())
    }
}

/// A template variable, parsed into the parameter's type.
pub fn resource_var<T>(req: &ResourceRequest, name: &str) -> Result<T, ToolError>
where
    T: FromStr,
    T::Err: Display,
{
    let raw = req.params.get(name).map_or("", String::as_str);
    raw.parse().map_err(|e| {
        ToolError::new(format!(
            "resource `{}`: `{name}` = `{raw}` is not a valid {}: {e}",
            req.uri,
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("value")
        ))
    })
}

/// A prompt argument: required (`String`) or optional (`Option<String>`).
pub trait PromptArg: Sized {
    /// Takes it from the request's arguments (checked against the declared ones already).
    fn take(req: &PromptRequest, name: &str) -> Self;
    /// Whether the argument is required.
    const REQUIRED: bool;
}

impl PromptArg for String {
    const REQUIRED: bool = true;
    fn take(req: &PromptRequest, name: &str) -> Self {
        req.arguments.get(name).cloned().unwrap_or_default()
    }
}

impl PromptArg for Option<String> {
    const REQUIRED: bool = false;
    fn take(req: &PromptRequest, name: &str) -> Self {
        req.arguments.get(name).cloned()
    }
}

/// What a resource function may return: text, bytes, JSON, or a `Result` of these.
#[diagnostic::on_unimplemented(
    message = "a resource function cannot return `{Self}`",
    note = "return text (`String`, `&'static str`), bytes (`Vec<u8>`), `Json<T>`, \
            `ResourceBody`, or a `Result` of one of these"
)]
pub trait IntoResourceRead {
    /// The body, or the error to answer.
    fn into_read(self) -> Result<ResourceBody, ToolError>;
}

impl IntoResourceRead for String {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        Ok(self.into())
    }
}
impl IntoResourceRead for &'static str {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        Ok(self.into())
    }
}
impl IntoResourceRead for Vec<u8> {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        Ok(self.into())
    }
}
impl IntoResourceRead for ResourceBody {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        Ok(self)
    }
}
impl<T: serde::Serialize> IntoResourceRead for Json<T> {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        serde_json::to_string(&self.0)
            .map(ResourceBody::Text)
            .map_err(|e| ToolError::new(format!("the resource does not serialize: {e}")))
    }
}
impl<T: IntoResourceRead, E: Display> IntoResourceRead for Result<T, E> {
    fn into_read(self) -> Result<ResourceBody, ToolError> {
        self.map_err(|e| ToolError::new(e.to_string()))?.into_read()
    }
}

/// Converts a resource function's output; spanned at the return type.
pub fn into_resource<R: IntoResourceRead>(r: R) -> Result<ResourceBody, ToolError> {
    r.into_read()
}

/// What a prompt function may return: messages, one message, text (one user message), or a
/// `Result` of these.
#[diagnostic::on_unimplemented(
    message = "a prompt function cannot return `{Self}`",
    note = "return `Vec<PromptMessage>`, a `PromptMessage`, text (one user message), or a \
            `Result` of one of these"
)]
pub trait IntoPromptMessages {
    /// The messages, or the error to answer.
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError>;
}

impl IntoPromptMessages for Vec<PromptMessage> {
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError> {
        Ok(self)
    }
}
impl IntoPromptMessages for PromptMessage {
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError> {
        Ok(vec![self])
    }
}
impl IntoPromptMessages for String {
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError> {
        Ok(vec![PromptMessage::user(Content::text(self))])
    }
}
impl IntoPromptMessages for &'static str {
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError> {
        Ok(vec![PromptMessage::user(Content::text(self))])
    }
}
impl<T: IntoPromptMessages, E: Display> IntoPromptMessages for Result<T, E> {
    fn into_messages(self) -> Result<Vec<PromptMessage>, ToolError> {
        self.map_err(|e| ToolError::new(e.to_string()))?
            .into_messages()
    }
}

/// Converts a prompt function's output; spanned at the return type.
pub fn into_prompt<R: IntoPromptMessages>(r: R) -> Result<Vec<PromptMessage>, ToolError> {
    r.into_messages()
}
