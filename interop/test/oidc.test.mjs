// End-to-end against a real OpenID provider nobody here wrote: `oidc-provider` (pinned) runs on
// 127.0.0.1 with dynamic registration, PKCE and RFC 8707 resource indicators (JWT access tokens
// for the MCP URL); examples/oauth_custom is configured from MCP_USE_OAUTH_CUSTOM_* alone; the
// official TypeScript SDK client signs in through discovery and dynamic registration, then lists
// and calls tools. Login and consent are approved by an interaction handler, and the client
// follows the redirects itself, keeping cookies, as a browser would.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { startServer } from './lib/harness.mjs';
import { BrowserlessProvider, startIssuer } from './lib/oidc.mjs';

const SCOPES = 'openid profile email admin';

describe('TypeScript SDK client, oidc-provider and examples/oauth_custom', () => {
  let issuer;
  let server;
  let mcpUrl = '';

  before(async () => {
    issuer = await startIssuer({ resourceOk: (resource) => resource === mcpUrl });
    server = await startServer('oauth_custom', {
      env: {
        MCP_USE_OAUTH_CUSTOM_ISSUER: issuer.issuer,
        MCP_USE_OAUTH_CUSTOM_SCOPES: 'openid profile email',
      },
    });
    mcpUrl = server.url;
  }, { timeout: 30_000 });

  after(async () => {
    if (server) await server.stop();
    if (issuer) await issuer.close();
  }, { timeout: 20_000 });

  test('discovery, dynamic registration, PKCE, a JWT for the resource, then tools', { timeout: 30_000 }, async () => {
    const provider = new BrowserlessProvider();
    const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await assert.rejects(
      new Client({ name: 'sdk-oidc', version: '1.0.0' }).connect(first),
      UnauthorizedError,
    );
    assert.ok(provider.client?.client_id, 'registered with oidc-provider');
    const auth = provider.authorizations[0];
    assert.equal(auth.origin, issuer.issuer, 'the authorization request goes to oidc-provider');
    assert.equal(auth.searchParams.get('resource'), mcpUrl);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('scope'), SCOPES, 'scopes_supported: the provider\'s and the tools\'');
    await first.finishAuth(provider.code);
    const at = provider.stored.access_token;
    const claims = JSON.parse(Buffer.from(at.split('.')[1], 'base64url').toString());
    assert.equal(claims.aud, mcpUrl, 'oidc-provider issued a JWT for this resource');
    assert.equal(claims.iss, issuer.issuer);
    await first.close();

    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    const client = new Client({ name: 'sdk-oidc', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['admin-action', 'get-user-info']);
    const who = await client.callTool({ name: 'get-user-info', arguments: {} });
    assert.equal(who.structuredContent.userId, 'ada');
    assert.deepEqual(who.structuredContent.scopes.sort(), SCOPES.split(' ').sort());
    const admin = await client.callTool({ name: 'admin-action', arguments: { action: 'audit' } });
    assert.equal(admin.content[0].text, 'ada performed `audit`');
    await client.close();
  });
});
