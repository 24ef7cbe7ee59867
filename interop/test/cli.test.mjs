// The `mcp` CLI (mcp-runtime-cli) signs in to this project's servers in front of a real OpenID
// provider nobody here wrote (oidc-provider, pinned): examples/oauth_custom verifying
// oidc-provider's JWTs (discovery, dynamic registration at oidc-provider, PKCE, `resource`),
// and examples/oauth_proxy in front of an oidc-provider without dynamic registration. It calls a
// tool, calls `admin-action` (stepping up where the first sign-in did not get `admin`), and
// signs out. The sign-in runs through BROWSER (a Node
// script that follows the redirects, as a browser would), never a human.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { INTEROP_DIR, NODE22, childEnv, startServer, tempDir } from './lib/harness.mjs';
import { startIssuer, startProxy } from './lib/oidc.mjs';

const MCP = process.env.MCP_BIN ?? resolve(INTEROP_DIR, '..', 'target', 'debug', 'mcp');
const BROWSER = `${NODE22} ${join(INTEROP_DIR, 'test', 'lib', 'browser.mjs')}`;

/** Runs `mcp` with a home of its own; resolves `{ code, stdout, stderr }`. */
function mcp(home, args) {
  assert.ok(existsSync(MCP), `${MCP} is missing: run \`cargo build -p mcp-runtime-cli\` first (or set MCP_BIN)`);
  return new Promise((done, reject) => {
    const child = spawn(MCP, args, {
      env: childEnv({ HOME: home, BROWSER, BROWSER_LOG: join(home, 'opened.log') }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

const opened = (home) => {
  const log = join(home, 'opened.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0;
};

/** login, a call, a step-up, logout: the same against every server. */
async function signInCallStepUp(url, home, { userTool, expectOpened, scopes }) {
  let r = await mcp(home, ['--port', '0', '--verbose', 'login', url]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, scopes, r.stdout);
  assert.match(r.stdout, new RegExp(`^Signed in to ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(`), r.stdout);
  assert.equal(opened(home), 1);
  r = await mcp(home, ['call', url, userTool]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(opened(home), 1, 'the stored token served');
  r = await mcp(home, ['--port', '0', 'call', url, 'admin-action', '--arg', 'action=rotate']);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /performed `rotate`|did rotate/, r.stdout);
  assert.equal(opened(home), expectOpened, 'sign-ins: the first, and one more if admin was not granted');
  r = await mcp(home, ['logout', url]);
  assert.equal(r.code, 0, r.stderr);
}

describe('the mcp CLI against oidc-provider', () => {
  const stops = [];
  after(async () => {
    for (const stop of stops) await stop();
  }, { timeout: 20_000 });

  test('examples/oauth_custom: tokens from oidc-provider', { timeout: 60_000 }, async () => {
    let mcpUrl = '';
    const issuer = await startIssuer({ resourceOk: (resource) => resource === mcpUrl });
    stops.push(() => issuer.close());
    const server = await startServer('oauth_custom', {
      env: { MCP_USE_OAUTH_CUSTOM_ISSUER: issuer.issuer, MCP_USE_OAUTH_CUSTOM_SCOPES: 'openid profile email' },
    });
    stops.push(() => server.stop());
    mcpUrl = server.url;
    const home = tempDir('mcp-cli-');
    stops.push(async () => home.remove());
    // Its protected-resource document lists `admin`, so the first sign-in asks for it.
    await signInCallStepUp(mcpUrl, home.path, {
      userTool: 'get-user-info', expectOpened: 1, scopes: /scopes: .*\badmin\b/,
    });
  });

  test('examples/oauth_proxy in front of oidc-provider', { timeout: 60_000 }, async () => {
    const { server, stop } = await startProxy();
    stops.push(stop);
    const home = tempDir('mcp-cli-');
    stops.push(async () => home.remove());
    await signInCallStepUp(server.url, home.path, {
      userTool: 'get-user-info', expectOpened: 2, scopes: /scopes: /,
    });
  });
});
