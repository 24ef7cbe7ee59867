//! The expansion behaves in unusual surroundings.
#![deny(warnings)]

extern crate mcp_runtime as renamed_mcp;

mod no_prelude {
    #![no_implicit_prelude]

    /// Shout.
    #[::mcp_runtime::mcp_tool]
    pub async fn shout(text: ::std::string::String) -> ::std::string::String {
        text
    }

    /// A long job, as a task.
    #[::mcp_runtime::mcp_tool(task = "required", task_start = "explicit")]
    pub async fn job(ctx: ::mcp_runtime::Context) -> bool {
        ctx.start_task().await
    }
}

macro_rules! make_tool {
    ($name:ident) => {
        /// Made by a macro.
        #[mcp_runtime::mcp_tool]
        pub async fn $name(n: u32) -> u32 {
            n
        }
    };
}
make_tool!(from_macro);

/// Through a renamed crate.
#[renamed_mcp::mcp_tool(crate = ::renamed_mcp)]
async fn renamed(r#type: String) -> String {
    r#type
}

fn main() {
    let server = mcp_runtime::McpServer::builder()
        .tools(mcp_runtime::tools![no_prelude::shout, no_prelude::job, from_macro, renamed])
        .build()
        .expect("builds");
    let _ = server;
    assert_eq!(<renamed as mcp_runtime::ToolDef>::NAME, "renamed");
    assert_eq!(<no_prelude::shout as mcp_runtime::ToolDef>::NAME, "shout");
}
