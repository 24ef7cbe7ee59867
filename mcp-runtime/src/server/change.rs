//! Changing what a running server offers: `McpServer::add_tool` and the rest build the next
//! catalog, swap it in whole and tell the clients.

use std::sync::Arc;

use super::catalog::{Catalog, Rules};
use super::protocol::prompts::Prompt;
use super::protocol::resources::Resource;
use super::{BuildError, McpServer, jsonrpc, protocol};
use crate::tool::Tool;

/// Which listing changed.
#[derive(Clone, Copy)]
enum Changed {
    Tools,
    Resources,
    Prompts,
}

impl McpServer {
    /// Adds a tool while the server runs (checked like the builder's tools), and tells every
    /// client with a session (`notifications/tools/list_changed` on its GET stream).
    pub fn add_tool(&self, tool: Tool) -> Result<(), BuildError> {
        self.change(Changed::Tools, |c, r| c.with_tool(tool, r).map(Some))
            .map(|_| ())
    }

    /// Removes the tool `name`; false if there is none. Calls already running finish.
    pub fn remove_tool(&self, name: &str) -> bool {
        self.change(Changed::Tools, |c, r| Ok(c.without_tool(name, r)))
            .unwrap_or(false)
    }

    /// Adds a resource or resource template while the server runs (checked like the
    /// builder's), and tells every client with a session
    /// (`notifications/resources/list_changed`).
    pub fn add_resource(&self, resource: Resource) -> Result<(), BuildError> {
        self.change(Changed::Resources, |c, r| {
            c.with_resource(resource, r).map(Some)
        })
        .map(|_| ())
    }

    /// Removes the resource (or template) `uri`; false if there is none.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.change(Changed::Resources, |c, r| Ok(c.without_resource(uri, r)))
            .unwrap_or(false)
    }

    /// Adds a prompt while the server runs, and tells every client with a session
    /// (`notifications/prompts/list_changed`).
    pub fn add_prompt(&self, prompt: Prompt) -> Result<(), BuildError> {
        self.change(Changed::Prompts, |c, r| c.with_prompt(prompt, r).map(Some))
            .map(|_| ())
    }

    /// Removes the prompt `name`; false if there is none.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.change(Changed::Prompts, |c, r| Ok(c.without_prompt(name, r)))
            .unwrap_or(false)
    }

    /// Builds the next catalog from the current one, swaps it in and notifies; `Ok(false)`
    /// when nothing changed.
    fn change(
        &self,
        what: Changed,
        next: impl FnOnce(&Catalog, &Rules) -> Result<Option<Catalog>, Vec<String>>,
    ) -> Result<bool, BuildError> {
        let inner = &self.inner;
        // One change at a time, so that none is lost between the load and the store.
        let _writer = inner
            .catalog_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = inner.catalog.load_full();
        let Some(catalog) =
            next(&current, &inner.rules).map_err(|problems| BuildError { problems })?
        else {
            return Ok(false);
        };
        inner.catalog.store(Arc::new(catalog));
        let method = match what {
            Changed::Tools => "notifications/tools/list_changed",
            Changed::Resources => "notifications/resources/list_changed",
            Changed::Prompts => "notifications/prompts/list_changed",
        };
        let message = jsonrpc::sse_event(
            serde_json::json!({ "jsonrpc": "2.0", "method": method })
                .to_string()
                .as_bytes(),
        );
        let told = inner
            .sessions
            .all()
            .into_iter()
            .filter(|s| s.send_to_stream(message.clone()))
            .count();
        let listening = inner.listeners.notify(match what {
            Changed::Tools => protocol::listen::Change::Tools,
            Changed::Resources => protocol::listen::Change::Resources,
            Changed::Prompts => protocol::listen::Change::Prompts,
        });
        tracing::debug!(target: "mcp_runtime::server", %method, sessions = told, listening, "list changed");
        Ok(true)
    }
}
