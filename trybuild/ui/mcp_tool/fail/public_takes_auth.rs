use mcp_runtime::prelude::*;

/// A public tool may have no caller: `Auth` cannot be promised.
#[mcp_tool(public)]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

fn main() {}
