//! The command line, parsed by hand: global options anywhere, then a command and its operands.

use std::path::PathBuf;

pub(crate) const USAGE: &str = "\
mcp: sign in to MCP servers, list their tools, call them.

usage:
  mcp login <url|name>                      sign in (again) and keep the tokens
  mcp logout <url|name> [--all]             forget the tokens (--all: the client registration too)
  mcp tools <url|name> [--schemas]          list the tools (with their input schemas)
  mcp call <url|name> <tool> [--arg k=v]... [--json '{...}']
                                            call a tool and print its result
  mcp servers                               list the servers of the configuration

options:
  --config FILE   the mcpServers configuration (default ./mcp.json)
  --port N        the sign-in callback's port on 127.0.0.1 (default 8080; 0: any free port)
  --no-browser    print the sign-in URL instead of opening a browser
  --verbose       show each OAuth step (never a secret)
  -h, --help      this text;  -V, --version  the version

A <url> is an MCP endpoint (http:// or https://); a <name> is a server of the configuration.
Tokens live in ~/.mcp_use/tokens (folder 0700, files 0600). `--arg k=v` gives a string to a
string parameter and parses JSON for the others (numbers, booleans, arrays, objects).
The browser is $BROWSER if set, else the system's.

exit codes: 0 success, 1 the tool reported an error, 2 usage or configuration,
            3 sign-in or authorization refused, 4 connection or protocol error";

/// What to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Login(String),
    Logout {
        target: String,
        all: bool,
    },
    Tools {
        target: String,
        schemas: bool,
    },
    Call {
        target: String,
        tool: String,
        args: Vec<(String, String)>,
        json: Option<String>,
    },
    Servers,
    Help,
    Version,
}

/// The whole command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Cli {
    pub(crate) config: Option<PathBuf>,
    pub(crate) port: Option<u16>,
    pub(crate) no_browser: bool,
    pub(crate) verbose: bool,
    pub(crate) command: Command,
}

/// Parses the arguments (without the program name); errors say what to write instead.
pub(crate) fn parse(args: &[String]) -> Result<Cli, String> {
    let mut config = None;
    let mut port = None;
    let (mut no_browser, mut verbose, mut all, mut schemas) = (false, false, false, false);
    let mut kv = Vec::new();
    let mut json = None;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(cli(Command::Help)),
            "-V" | "--version" => return Ok(cli(Command::Version)),
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--port" => {
                let v = value("--port")?;
                port = Some(
                    v.parse()
                        .map_err(|_| format!("--port {v}: not a port number"))?,
                );
            }
            "--no-browser" => no_browser = true,
            "--verbose" | "-v" => verbose = true,
            "--all" => all = true,
            "--schemas" => schemas = true,
            "--arg" => {
                let v = value("--arg")?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--arg {v}: write key=value"))?;
                if k.is_empty() {
                    return Err(format!("--arg {v}: the key is empty"));
                }
                kv.push((k.to_owned(), val.to_owned()));
            }
            "--json" => json = Some(value("--json")?),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option {s} (see mcp --help)"));
            }
            _ => words.push(a.clone()),
        }
    }
    let mut words = words.into_iter();
    let need =
        |w: Option<String>, what: &str| w.ok_or_else(|| format!("missing {what} (see mcp --help)"));
    let command = match words.next().as_deref() {
        None | Some("help") => Command::Help,
        Some("login") => Command::Login(need(words.next(), "<url|name>")?),
        Some("logout") => Command::Logout {
            target: need(words.next(), "<url|name>")?,
            all,
        },
        Some("tools") => Command::Tools {
            target: need(words.next(), "<url|name>")?,
            schemas,
        },
        Some("call") => Command::Call {
            target: need(words.next(), "<url|name>")?,
            tool: need(words.next(), "<tool>")?,
            args: kv,
            json,
        },
        Some("servers") => Command::Servers,
        Some(other) => return Err(format!("unknown command `{other}` (see mcp --help)")),
    };
    if let Some(extra) = words.next() {
        return Err(format!("unexpected `{extra}` (see mcp --help)"));
    }
    Ok(Cli {
        config,
        port,
        no_browser,
        verbose,
        command,
    })
}

fn cli(command: Command) -> Cli {
    Cli {
        config: None,
        port: None,
        no_browser: false,
        verbose: false,
        command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Cli, String> {
        parse(&s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn commands_and_options_parse() {
        let c = p("--verbose call http://h/mcp add --arg a=1 --port 0 --arg b=x=y").expect("ok");
        assert!(c.verbose);
        assert_eq!(c.port, Some(0));
        assert_eq!(
            c.command,
            Command::Call {
                target: "http://h/mcp".into(),
                tool: "add".into(),
                args: vec![("a".into(), "1".into()), ("b".into(), "x=y".into())],
                json: None,
            }
        );
        assert_eq!(p("").expect("ok").command, Command::Help);
        assert_eq!(
            p("logout x --all").expect("ok").command,
            Command::Logout {
                target: "x".into(),
                all: true
            }
        );
        assert!(p("call x").expect_err("no tool").contains("<tool>"));
        assert!(p("--arg nokey").expect_err("no =").contains("key=value"));
        assert!(
            p("frobnicate")
                .expect_err("unknown")
                .contains("unknown command")
        );
        assert!(
            p("tools a b")
                .expect_err("extra")
                .contains("unexpected `b`")
        );
        assert!(
            p("--port x tools a")
                .expect_err("bad port")
                .contains("not a port")
        );
        assert!(
            p("--colour tools a")
                .expect_err("unknown option")
                .contains("--colour")
        );
    }
}
