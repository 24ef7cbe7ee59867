use mcp_runtime::prelude::*;

/// Add.
#[mcp_tool]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[mcp_server(name = "calc", oauth = "custon", tools = [add])]
struct Calc;

// One mistake, one error: `Calc::run` exists although the attribute did not compile.
fn main() -> Result<(), ServeError> {
    Calc::run()
}
