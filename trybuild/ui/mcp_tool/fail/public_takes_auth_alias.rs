use mcp_runtime::prelude::*;

type Caller = Auth;

/// Behind an alias the macro cannot see `Auth`: the compiler refuses it at `public`.
#[mcp_tool(public)]
async fn whoami(auth: Caller) -> String {
    auth.user.user_id.clone()
}

fn main() {}
