//! Running the server: binding (a public address only with a public URL), the canonical
//! resource learnt from the bound address, `start` in the background, `serve` and `run`
//! until a signal, and the handle of a started server.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use actix_web::{App, HttpServer};

use super::running::RunningServer;
use crate::config::{self, ServeError};
use crate::server::McpServer;

impl McpServer {
    /// Without a public URL, only a loopback address may be bound.
    fn may_bind(&self, addr: SocketAddr) -> Result<(), ServeError> {
        if self.inner.public_url.is_none() && !addr.ip().is_loopback() {
            return Err(ServeError::PublicUrlRequired { addr });
        }
        Ok(())
    }

    /// Learns the bound address: without a public URL, only a loopback address may be
    /// bound, and the canonical resource is `http://<bound address><path>`.
    fn bound(&self, local: SocketAddr) -> Result<(), ServeError> {
        self.may_bind(local)?;
        #[cfg(feature = "oauth")]
        if let Some(auth) = &self.inner.auth {
            let _ = auth.resource.set(format!("http://{local}{}", self.path));
            #[cfg(feature = "authorization-server")]
            if let Some(dev) = &auth.embedded {
                dev.set_resource(auth.resource());
            }
            tracing::info!(
                target: "mcp_runtime::auth",
                "OAuth: resource {}; tokens verified by {}",
                auth.resource(),
                auth.gate.describe()
            );
        }
        Ok(())
    }

    /// Runs the actix-web server for this MCP server on `listener`.
    ///
    /// Half-closed connections are not allowed, so a client that disconnects cancels its
    /// request: the tool's future is dropped instead of running on for nobody.
    fn run_on(
        &self,
        listener: TcpListener,
        signals: bool,
    ) -> std::io::Result<actix_web::dev::Server> {
        let this = self.clone();
        let mut server = HttpServer::new(move || {
            let this = this.clone();
            App::new().configure(move |cfg| this.configure(cfg))
        })
        .h1_allow_half_closed(false)
        .shutdown_timeout(5);
        if let Some(n) = self.workers {
            server = server.workers(n);
        }
        if !signals {
            server = server.disable_signals();
        }
        Ok(server.listen(listener)?.run())
    }

    /// The metrics listener (`metrics_listener`, `MCP_METRICS_ADDR`), bound and running, if
    /// the server has one: one worker, `GET /metrics` only.
    #[cfg(feature = "metrics")]
    fn metrics_server(&self) -> std::io::Result<Option<(SocketAddr, actix_web::dev::Server)>> {
        let (Some(addr), Some(metrics)) = (self.metrics_addr, self.inner.metrics.clone()) else {
            return Ok(None);
        };
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let app = crate::server::transport::observe::metrics_app(metrics);
        let server = HttpServer::new(move || App::new().configure(app.clone()))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
        tracing::info!(target: "mcp_runtime::server", "metrics at http://{local}/metrics");
        Ok(Some((local, server)))
    }

    #[cfg(not(feature = "metrics"))]
    fn metrics_server(&self) -> std::io::Result<Option<(SocketAddr, actix_web::dev::Server)>> {
        Ok(None)
    }

    /// Binds `addr` and starts serving in the background of the current runtime; returns at
    /// once with the bound address. Use port 0 for an ephemeral port (tests). A metrics
    /// listener starts beside it ([`RunningServer::metrics_addr`]).
    pub fn start(&self, addr: impl ToSocketAddrs) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        self.bound(local)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        let metrics = self.metrics_server()?.map(|(addr, server)| {
            let handle = server.handle();
            (addr, handle, tokio::spawn(server))
        });
        let server = self.run_on(listener, false)?;
        let handle = server.handle();
        let join = tokio::spawn(server);
        Ok(RunningServer {
            addr: local,
            path: self.path.clone(),
            handle,
            join,
            metrics,
        })
    }

    /// Serves on `HOST`:`PORT` from the environment (defaults `127.0.0.1:3000`) until Ctrl-C;
    /// or over stdio when started with `--stdio` or `MCP_TRANSPORT=stdio`
    /// ([`serve_stdio`](Self::serve_stdio)).
    pub async fn serve(self) -> Result<(), ServeError> {
        if config::Transport::from_env()? == config::Transport::Stdio {
            return self.serve_stdio().await;
        }
        let addr = config::bind_addr_from_env()?;
        self.serve_on(addr).await
    }

    /// Serves over stdio (the MCP stdio transport) until standard input ends: newline-delimited
    /// JSON-RPC in, the same out, logs on standard error. The same tools, resources and
    /// prompts as over HTTP, with no OAuth (the specification leaves credentials to the
    /// environment over stdio): whoever starts the process is the caller, with every scope the
    /// server advertises; `Auth` names them `MCP_STDIO_USER`, else the OS user.
    pub async fn serve_stdio(self) -> Result<(), ServeError> {
        tracing::info!(
            target: "mcp_runtime::server",
            "MCP server `{}` on stdio{}",
            self.inner.info.implementation.name,
            if self.inner.rules.has_oauth {
                " (no OAuth over stdio: the local user is the caller)"
            } else {
                ""
            }
        );
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        let local = tokio::task::LocalSet::new();
        local
            .run_until(crate::server::transport::stdio::serve(
                self.inner.clone(),
                input,
                tokio::io::stdout(),
            ))
            .await
            .map_err(ServeError::Io)
    }

    /// Serves on `addr` until Ctrl-C.
    pub async fn serve_on(self, addr: SocketAddr) -> Result<(), ServeError> {
        self.may_bind(addr)?;
        let listener = TcpListener::bind(addr).map_err(|e| ServeError::Bind { addr, source: e })?;
        let local = listener
            .local_addr()
            .map_err(|e| ServeError::Bind { addr, source: e })?;
        self.bound(local)?;
        match &self.inner.public_url {
            Some(public) => tracing::info!(
                target: "mcp_runtime::server",
                "MCP server `{}` listening on http://{local}{} (public URL {})",
                self.inner.info.implementation.name,
                self.path,
                public.text
            ),
            None => tracing::info!(
                target: "mcp_runtime::server",
                "MCP server `{}` listening on http://{local}{}",
                self.inner.info.implementation.name,
                self.path
            ),
        }
        if let Some(shared) = &self.inner.shared_sessions {
            tracing::info!(
                target: "mcp_runtime::server",
                "MCP sessions shared with other replicas through {}",
                shared.describe()
            );
        }
        let metrics = match self.metrics_server() {
            Ok(m) => m,
            Err(source) => {
                return Err(ServeError::Bind {
                    addr: self.metrics_bind_addr().unwrap_or(addr),
                    source,
                });
            }
        };
        let metrics = metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, actix_web::rt::spawn(server))
        });
        let served = self
            .run_on(listener, true)
            .map_err(|e| ServeError::Bind { addr, source: e })?
            .await
            .map_err(ServeError::Io);
        // The endpoint stopped (a signal): the metrics listener goes with it.
        if let Some((handle, join)) = metrics {
            handle.stop(true).await;
            let _ = join.await;
        }
        served
    }

    #[cfg(feature = "metrics")]
    fn metrics_bind_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    #[cfg(not(feature = "metrics"))]
    fn metrics_bind_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// Blocks on [`serve`](Self::serve) in a runtime of its own, after loading `.env`-style
    /// settings and installing a `tracing` subscriber (`RUST_LOG`, default `info`). This is all
    /// `main` needs: `fn main() -> Result<(), ServeError> { server.run() }`.
    pub fn run(self) -> Result<(), ServeError> {
        config::load_dotenv();
        config::init_tracing();
        actix_web::rt::System::new().block_on(self.serve())
    }
}
