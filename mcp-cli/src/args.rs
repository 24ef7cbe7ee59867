//! The command line, parsed by clap: a command per action, each with its own `--help`; global
//! options anywhere; `--opt=value` and `--` as everywhere else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
A <URL|NAME> is an MCP endpoint (http:// or https://) or a server of the configuration: the
file --config or $MCP_CONFIG names, else ./mcp.json, else ./.mcp.json, else mcp.json in your
configuration folder ($XDG_CONFIG_HOME/mcp, ~/.config/mcp, or %APPDATA%\\mcp on Windows).
Tokens live in ~/.mcp_use/tokens (folder 0700, files 0600). The browser is $BROWSER if set,
else the system's.

exit codes: 0 success, 1 the tool reported an error, 2 usage or configuration,
            3 sign-in or authorization refused, 4 connection or protocol error";

/// mcp: sign in to MCP servers, list their tools, resources and prompts, and use them.
#[derive(Debug, Parser)]
#[command(name = "mcp", version, after_help = AFTER_HELP, max_term_width = 100)]
pub(crate) struct Cli {
    /// The mcpServers configuration file.
    #[arg(long, global = true, env = "MCP_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The sign-in callback's port on 127.0.0.1 (default 8080; 0: any free port).
    #[arg(long, global = true, value_name = "N")]
    pub(crate) port: Option<u16>,
    /// Print the sign-in URL instead of opening a browser.
    #[arg(long, global = true)]
    pub(crate) no_browser: bool,
    /// Show each OAuth step on stderr (never a secret).
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// How results are printed: text for people, json for programs.
    #[arg(
        short = 'o',
        long,
        global = true,
        value_enum,
        default_value_t = Output::Text
    )]
    pub(crate) output: Output,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Lines for people.
    Text,
    /// One JSON document on stdout (errors as `{"error": …, "exit_code": …}` on stderr).
    Json,
}

/// A server named on the command line.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The server: an MCP endpoint URL or a name from the configuration.
    #[arg(value_name = "URL|NAME")]
    pub(crate) target: String,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign in (again) and keep the tokens; the old ones stay until the new sign-in succeeds.
    Login(Target),
    /// Forget the tokens.
    Logout {
        #[command(flatten)]
        target: Target,
        /// Forget the client registration too.
        #[arg(long)]
        all: bool,
    },
    /// List the tools.
    Tools {
        #[command(flatten)]
        target: Target,
        /// Show each tool's input schema.
        #[arg(long)]
        schemas: bool,
    },
    /// Call a tool and print its result.
    Call {
        #[command(flatten)]
        target: Target,
        /// The tool's name.
        tool: String,
        /// An argument: a string for string parameters, JSON for the others.
        #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = key_value)]
        args: Vec<(String, String)>,
        /// All the arguments as a JSON object (--arg adds to it).
        #[arg(long, value_name = "OBJECT")]
        json: Option<String>,
    },
    /// List the resources (and the resource templates).
    Resources(Target),
    /// Read a resource and print its contents.
    Read {
        #[command(flatten)]
        target: Target,
        /// The resource's URI.
        uri: String,
    },
    /// List the prompts.
    Prompts(Target),
    /// Get a prompt and print its messages.
    Prompt {
        #[command(flatten)]
        target: Target,
        /// The prompt's name.
        name: String,
        /// An argument (prompt arguments are strings).
        #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = key_value)]
        args: Vec<(String, String)>,
    },
    /// List the servers of the configuration.
    Servers,
    /// Print a shell completion script (e.g. `mcp completions bash > ~/.local/share/bash-completion/completions/mcp`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `key=value`, the key not empty; the value may hold `=`.
fn key_value(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("`{s}`: the key is empty"));
    }
    Ok((k.to_owned(), v.to_owned()))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    fn p(s: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mcp").chain(s.split_whitespace()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_and_options_parse() {
        let c = p("--verbose call http://h/mcp add --arg a=1 --port=0 --arg b=x=y -o json")
            .expect("ok");
        assert!(c.verbose);
        assert_eq!(c.port, Some(0));
        assert_eq!(c.output, Output::Json);
        let Command::Call {
            target, tool, args, ..
        } = c.command
        else {
            panic!("call")
        };
        assert_eq!(target.target, "http://h/mcp");
        assert_eq!(tool, "add");
        assert_eq!(args, [("a".into(), "1".into()), ("b".into(), "x=y".into())]);
        // `--` ends the options: a tool whose name starts with a dash.
        let c = p("call x -- --weird").expect("ok");
        assert!(matches!(c.command, Command::Call { tool, .. } if tool == "--weird"));
        assert!(matches!(
            p("logout x --all").expect("ok").command,
            Command::Logout { all: true, .. }
        ));
        let e = p("call x").expect_err("no tool").to_string();
        assert!(e.contains("<TOOL>"), "{e}");
        let e = p("call x t --arg nokey").expect_err("no =").to_string();
        assert!(e.contains("write KEY=VALUE"), "{e}");
        let e = p("frobnicate").expect_err("unknown").to_string();
        assert!(e.contains("unrecognized subcommand 'frobnicate'"), "{e}");
        let e = p("tools a b").expect_err("extra").to_string();
        assert!(e.contains("unexpected argument 'b'"), "{e}");
        let e = p("--port x tools a").expect_err("bad port").to_string();
        assert!(e.contains("invalid value 'x' for '--port <N>'"), "{e}");
        let e = p("tools a -o yaml").expect_err("bad output").to_string();
        assert!(e.contains("[possible values: text, json]"), "{e}");
    }
}
