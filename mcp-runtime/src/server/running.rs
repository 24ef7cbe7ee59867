//! The handle of a server started in the background.

use std::net::SocketAddr;
use std::sync::Arc;

/// A server started with [`McpServer::start`](super::McpServer::start).
#[derive(Debug)]
pub struct RunningServer {
    pub(super) addr: SocketAddr,
    pub(super) path: Arc<str>,
    pub(super) handle: actix_web::dev::ServerHandle,
    pub(super) join: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The metrics listener: its address, handle and task.
    pub(super) metrics: Option<(
        SocketAddr,
        actix_web::dev::ServerHandle,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint's URL, e.g. `http://127.0.0.1:40123/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }

    /// The metrics listener's bound address, when the server has one
    /// (`McpServerBuilder::metrics_listener`, feature `metrics`).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, _, _)| *addr)
    }

    /// Stops the server (and its metrics listener), letting requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.join.await;
        if let Some((_, handle, join)) = self.metrics {
            handle.stop(true).await;
            let _ = join.await;
        }
    }
}
