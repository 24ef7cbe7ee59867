//! An MCP server mounted in an in-process actix-web service (no socket), called once per input.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use mcp_runtime::McpServer;
use mcp_runtime::actix_web::App;
use mcp_runtime::actix_web::dev::Service as _;
use mcp_runtime::actix_web::http::StatusCode;
use mcp_runtime::actix_web::rt::{System, SystemRunner};
use mcp_runtime::actix_web::test::{self, TestRequest};

type Call = Box<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = (StatusCode, Vec<u8>)>>>>;

pub struct Harness {
    system: SystemRunner,
    call: Call,
}

impl Harness {
    /// A harness that lives until the process exits: never dropped, because actix's own
    /// thread-locals may be gone by the time a thread-local harness would be.
    pub fn leaked(server: McpServer) -> &'static Self {
        Box::leak(Box::new(Self::new(server)))
    }

    fn new(server: McpServer) -> Self {
        let system = System::new();
        let service = system.block_on(test::init_service(
            App::new().configure(move |cfg| server.configure(cfg)),
        ));
        let service = Rc::new(service);
        let call: Call = Box::new(move |req: TestRequest| {
            let service = service.clone();
            Box::pin(async move {
                match service.call(req.to_request()).await {
                    Ok(resp) => {
                        let status = resp.status();
                        // A stream (SSE) that stays open is cut off: only the status matters then.
                        let body = mcp_runtime::actix_web::rt::time::timeout(
                            Duration::from_millis(200),
                            test::read_body(resp),
                        )
                        .await
                        .map(|b| b.to_vec())
                        .unwrap_or_default();
                        (status, body)
                    }
                    Err(e) => (e.as_response_error().status_code(), Vec::new()),
                }
            })
        });
        Harness { system, call }
    }

    pub fn send(&self, req: TestRequest) -> (StatusCode, Vec<u8>) {
        self.system.block_on((self.call)(req))
    }
}
