//! The typed calls: ping, tools (listed through every page, called with options), resources
//! and prompts.

use serde_json::{Value, json};

use super::options::CallOptions;
use super::stateless;
use super::types::{ToolInfo, ToolResult};
use super::{Client, ClientError};

/// Most pages followed for one listing.
const MAX_PAGES: usize = 1000;
use crate::model::rpc::code::HEADER_MISMATCH;

impl Client {
    /// `ping`.
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.request("ping", json!({})).await.map(|_| ())
    }

    /// Every item of a paginated listing (`tools/list` → `tools`), following `nextCursor`.
    pub async fn list_all(&self, method: &str, key: &str) -> Result<Vec<Value>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page = self.request(method, params).await?;
            match page.get(key) {
                Some(Value::Array(a)) => items.extend(a.iter().cloned()),
                None => {}
                Some(_) => {
                    return Err(ClientError::Protocol(format!(
                        "{method}: `{key}` is not a list"
                    )));
                }
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => cursor = Some(c.to_owned()),
                _ => return Ok(items),
            }
        }
        Err(ClientError::Protocol(format!(
            "{method} returned more than {MAX_PAGES} pages"
        )))
    }

    /// Every tool. On the 2026-07-28 revision, tools whose `x-mcp-header` designations are
    /// invalid are left out (they could not be called correctly), with a warning.
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, ClientError> {
        let items = self.list_all("tools/list", "tools").await?;
        let mut tools: Vec<ToolInfo> = serde_json::from_value(Value::Array(items))
            .map_err(|e| ClientError::Protocol(format!("malformed tools/list ({e})")))?;
        if self.is_stateless() {
            tools.retain(|t| match stateless::invalid_headers(&t.input_schema) {
                Some(why) => {
                    tracing::warn!(target: "mcp_runtime::client", "tool `{}` left out: {why}", t.name);
                    false
                }
                None => true,
            });
        }
        self.remember_schemas(&tools);
        Ok(tools)
    }

    /// Calls a tool. A tool's own failure is `Ok` with `is_error`; a refused call is `Err`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<ToolResult, ClientError> {
        self.call_tool_with(name, arguments, &CallOptions::default())
            .await
    }

    /// [`call_tool`](Self::call_tool) with options.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: &CallOptions,
    ) -> Result<ToolResult, ClientError> {
        let params = json!({"name": name, "arguments": arguments});
        let r = match self.request_with("tools/call", params.clone(), opts).await {
            // 2026-07-28: a tool that takes header-borne arguments (`x-mcp-header`) this
            // client has not seen listed yet: list the tools, then call once more with the
            // headers its schema designates.
            Err(ClientError::Rpc(e)) if e.code == HEADER_MISMATCH && !self.knows_schema(name) => {
                self.list_tools().await?;
                self.request_with("tools/call", params, opts).await?
            }
            other => other?,
        };
        serde_json::from_value(r)
            .map_err(|e| ClientError::Protocol(format!("malformed tools/call result ({e})")))
    }

    /// Every resource (`resources/list`), as the server describes them.
    pub async fn list_resources(&self) -> Result<Vec<Value>, ClientError> {
        self.list_all("resources/list", "resources").await
    }

    /// Every resource template (`resources/templates/list`).
    pub async fn list_resource_templates(&self) -> Result<Vec<Value>, ClientError> {
        self.list_all("resources/templates/list", "resourceTemplates")
            .await
    }

    /// `resources/read`: the resource's `contents`.
    pub async fn read_resource(&self, uri: &str) -> Result<Value, ClientError> {
        self.request("resources/read", json!({"uri": uri})).await
    }

    /// Every prompt (`prompts/list`).
    pub async fn list_prompts(&self) -> Result<Vec<Value>, ClientError> {
        self.list_all("prompts/list", "prompts").await
    }

    /// `prompts/get` with these arguments.
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<Value, ClientError> {
        self.request("prompts/get", json!({"name": name, "arguments": arguments}))
            .await
    }
}
