// `oauth = path` names a fn returning `OAuth` (or a `Result` of one): tools that need a caller
// are then allowed.
use mcp_runtime::auth::OAuth;
use mcp_runtime::prelude::*;
use mcp_runtime::providers::DevProvider;

/// Who is calling.
#[mcp_tool]
async fn whoami(auth: Auth) -> String {
    auth.user.user_id.clone()
}

fn oauth() -> Result<OAuth, mcp_runtime::providers::ProviderError> {
    DevProvider::new().auto_approve(true).into_oauth()
}

#[mcp_server(name = "s", oauth = oauth, tools = [whoami])]
struct S;

fn main() {
    assert!(S::build().is_ok());
}
