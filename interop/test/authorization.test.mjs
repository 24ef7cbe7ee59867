// The conformance suite's authorization-server scenarios (its pre-release line,
// @modelcontextprotocol/conformance 0.2.0-alpha.12, pinned in interop/next): the metadata
// endpoint and the authorization-code grant, against the development authorization server
// (examples/quickstart_oauth) and against the OAuth proxy (examples/oauth_proxy, in front of
// oidc-provider without dynamic registration). The suite prints the authorization URL and
// waits on its own callback; this test plays the user's browser, following the redirects with
// cookies until the suite's callback answers.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { INTEROP_DIR, NODE22, childEnv, startServer, stripAnsi } from './lib/harness.mjs';
import { followRedirects, startProxy } from './lib/oidc.mjs';

const CONFORMANCE_NEXT = join(INTEROP_DIR, 'next', 'node_modules', '.bin', 'conformance');

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function register(registrationEndpoint, redirect) {
  const resp = await fetch(registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'conformance suite',
    }),
  });
  const body = await resp.text();
  assert.equal(resp.status, 201, body);
  return JSON.parse(body).client_id;
}

/** Runs `conformance authorization` and plays the browser; resolves the suite's output. */
async function runSuite({ issuer, registrationEndpoint, resource }) {
  assert.ok(existsSync(CONFORMANCE_NEXT), `${CONFORMANCE_NEXT} is missing: run npm ci in interop/next`);
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  const clientId = await register(registrationEndpoint, callback);
  const child = spawn(NODE22, [
    CONFORMANCE_NEXT, 'authorization', '--url', issuer, '--client-id', clientId,
    '--resource', resource, '-p', String(port),
  ], { cwd: INTEROP_DIR, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let browsed;
  const onData = (chunk) => {
    out += chunk.toString('utf8');
    const m = stripAnsi(out).match(/^(https?:\/\/\S+\/authorize\?\S+)$/m);
    if (m && !browsed && /Callback server started/.test(out)) {
      browsed = followRedirects(m[1], callback, { fetchStop: true });
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise((r) => child.once('exit', r));
  if (browsed) await browsed;
  return { code, out: stripAnsi(out) };
}

describe('conformance authorization-server scenarios (0.2.0-alpha.12)', () => {
  const stops = [];
  after(async () => {
    for (const stop of stops) await stop();
  }, { timeout: 20_000 });

  test('the development authorization server', { timeout: 90_000 }, async () => {
    const server = await startServer('quickstart_oauth', {
      env: { MCP_USE_OAUTH_DEV_AUTO_APPROVE: 'true', MCP_STORE_URL: 'memory:' },
    });
    stops.push(() => server.stop());
    const issuer = new URL(server.url).origin;
    const { code, out } = await runSuite({
      issuer, registrationEndpoint: `${issuer}/oauth/register`, resource: server.url,
    });
    // Every check of both scenarios passes (the metadata scenario checks more once the server
    // advertises client ID metadata documents).
    assert.match(out, /✓ authorization-server-metadata-endpoint: \d+ passed, 0 failed/, out);
    assert.match(out, /✓ authorization-code-grant: \d+ passed, 0 failed/, out);
    assert.match(out, /Total: \d+ passed, 0 failed/, out);
    assert.equal(code, 0, out);
  });

  test('the OAuth proxy in front of oidc-provider', { timeout: 90_000 }, async () => {
    const { server, stop } = await startProxy();
    stops.push(stop);
    const issuer = new URL(server.url).origin;
    const { code, out } = await runSuite({
      issuer, registrationEndpoint: `${issuer}/register`, resource: server.url,
    });
    // Every check of both scenarios passes (the metadata scenario checks more once the server
    // advertises client ID metadata documents).
    assert.match(out, /✓ authorization-server-metadata-endpoint: \d+ passed, 0 failed/, out);
    assert.match(out, /✓ authorization-code-grant: \d+ passed, 0 failed/, out);
    assert.match(out, /Total: \d+ passed, 0 failed/, out);
    assert.equal(code, 0, out);
  });
});
