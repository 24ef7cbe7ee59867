// Machines and DPoP with oidc-provider as the authorization server (a certified provider nobody
// here wrote): its client-credentials grant and its DPoP-bound JWT access tokens, obtained by
// the `mcp` CLI (`grant: "client_credentials"`, `dpop: true` in its configuration) and
// presented to examples/oauth_custom, which verifies the token against oidc-provider's keys and
// the proof of possession itself. Then the same token copied out and sent as a bearer token,
// which the server refuses.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { EXAMPLES_DIR, startServer, tempDir } from './lib/harness.mjs';
import { startIssuer } from './lib/oidc.mjs';

const MCP = join(EXAMPLES_DIR, '..', 'mcp');
const SECRET = 'nightly-report-secret-0123456789abcdef';

function mcp(args, home, cwd) {
  return new Promise((resolve) => {
    execFile(MCP, args, { cwd, env: { ...process.env, HOME: home, NO_COLOR: '1' }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

describe('client credentials and DPoP: the mcp CLI, oidc-provider and examples/oauth_custom', () => {
  let issuer;
  let server;
  let mcpUrl = '';
  const home = tempDir('mcp-oidc-m2m-');
  // Tokens are kept per server URL: each configuration entry signs in with a home of its own.
  const bearerHome = tempDir('mcp-oidc-m2m-bearer-');
  const boundHome = tempDir('mcp-oidc-m2m-bound-');

  before(async () => {
    issuer = await startIssuer({
      resourceOk: (resource) => resource === mcpUrl,
      features: { clientCredentials: { enabled: true } },
      clients: () => [{
        client_id: 'nightly-report',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'admin',
      }],
    });
    server = await startServer('oauth_custom', {
      env: { MCP_USE_OAUTH_CUSTOM_ISSUER: issuer.issuer, MCP_USE_OAUTH_CUSTOM_SCOPES: 'openid profile email' },
    });
    mcpUrl = server.url;
    const config = (dpop) => ({
      url: server.url,
      auth: { grant: 'client_credentials', client_id: 'nightly-report', client_secret: SECRET, issuer: issuer.issuer, scope: 'admin', dpop },
    });
    writeFileSync(join(home.path, 'mcp.json'), JSON.stringify({
      mcpServers: { bearer: config(false), bound: config(true) },
    }));
  }, { timeout: 30_000 });

  after(async () => {
    if (server) await server.stop();
    if (issuer) await issuer.close();
    for (const h of [home, bearerHome, boundHome]) h.remove();
  }, { timeout: 20_000 });

  test('client credentials: a bearer token for the resource, and the tool it allows', { timeout: 30_000 }, async () => {
    const r = await mcp(['call', 'bearer', 'admin-action', '--arg', 'action=report', '--verbose'], bearerHome.path, home.path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /report/);
    assert.match(r.stderr, /client credentials at http:\/\/127\.0\.0\.1:\d+\/token/);
    assert.match(r.stderr, /token type: Bearer/);
  });

  test('DPoP: oidc-provider binds the token to the CLI\'s key; the server checks the proofs', { timeout: 30_000 }, async () => {
    const r = await mcp(['call', 'bound', 'get-user-info', '-o', 'json', '--verbose'], boundHome.path, home.path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nightly-report/);
    assert.match(r.stderr, /token type: DPoP/, 'oidc-provider bound the token to the key');

    // The token copied out of the CLI's store is of no use as a bearer token.
    const dir = join(boundHome.path, '.mcp_use', 'tokens');
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    const { access_token: token } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    assert.ok(claims.cnf?.jkt, 'the token names the key it is bound to');
    const copied = await fetch(server.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'thief', version: '1' } } }),
    });
    assert.equal(copied.status, 401);
    assert.match(copied.headers.get('www-authenticate'), /invalid_token/);
    assert.match(await copied.text(), /bound to a key/);
  });
});
