//! A whole server from the attribute: builder, build, serve and run exist.
use mcp_runtime::prelude::*;

/// Add two numbers.
#[mcp_tool(read_only)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Fallible.
#[mcp_tool(name = "may-fail", title = "May fail", destructive = false, idempotent, open_world)]
pub async fn may_fail(ctx: Context, fail: Option<bool>) -> Result<Json<std::collections::BTreeMap<String, i64>>, ToolError> {
    ctx.info("running");
    if fail.unwrap_or(false) {
        return Err(ToolError::new("asked to fail"));
    }
    Ok(Json(Default::default()))
}

#[mcp_server(name = "calc", version = "1.2.3", title = "Calculator", instructions = "Adds.", stateless, tools = [add, may_fail])]
struct Calc;

fn main() {
    let server = Calc::build().expect("builds");
    assert_eq!(server.path(), "/mcp");
    let _run: fn() -> Result<(), ServeError> = Calc::run;
    let _ = Calc::serve();
    // The function is still callable as written.
    let _fut = add(1, 2);
}
