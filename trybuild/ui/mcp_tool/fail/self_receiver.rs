use mcp_runtime::prelude::*;

struct Calc;

impl Calc {
    /// A method.
    #[mcp_tool]
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
