// The OAuth proxy end to end: examples/oauth_proxy, configured from MCP_USE_OAUTH_PROXY_* alone,
// in front of a real OpenID provider (`oidc-provider`, pinned) that has dynamic registration
// turned off and knows only the proxy's pre-registered confidential client. The official
// TypeScript SDK client cannot register with that provider; through the proxy it registers,
// signs in (the proxy's consent is auto-approved here, the provider's login and consent by its
// interaction handler), lists tools, calls get-user-info, and steps up to `admin` after a 403.
// Once with client_secret_post and once with client_secret_basic at the upstream.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { StepUpProvider, startProxy } from './lib/oidc.mjs';

for (const tokenAuth of ['client_secret_post', 'client_secret_basic']) {
  describe(`TypeScript SDK through examples/oauth_proxy to oidc-provider without DCR (${tokenAuth})`, () => {
    let proxy;
    let issuer;
    let mcpUrl = '';

    before(async () => {
      proxy = await startProxy({ tokenAuth });
      issuer = proxy.idp;
      mcpUrl = proxy.server.url;
    }, { timeout: 30_000 });

    after(async () => {
      if (proxy) await proxy.stop();
    }, { timeout: 20_000 });

    test('the provider itself offers no registration', { timeout: 10_000 }, async () => {
      const meta = await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json();
      assert.equal(meta.registration_endpoint, undefined);
      const proxied = await (await fetch(`${new URL(mcpUrl).origin}/.well-known/oauth-authorization-server`)).json();
      assert.equal(proxied.registration_endpoint, `${new URL(mcpUrl).origin}/register`);
    });

    test('register, sign in upstream, tools, then step-up to admin', { timeout: 60_000 }, async () => {
      const provider = new StepUpProvider('SDK through the OAuth proxy');
      const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
      await assert.rejects(
        new Client({ name: 'sdk-proxy', version: '1.0.0' }).connect(first),
        UnauthorizedError,
      );
      assert.ok(provider.client?.client_id, 'registered with the proxy');
      assert.notEqual(provider.client.client_id, 'mcp-proxy', 'its own client id, not the upstream one');
      const auth = provider.authorizations[0];
      assert.equal(auth.origin, new URL(mcpUrl).origin, 'the SDK signs in at the proxy');
      assert.equal(auth.pathname, '/authorize');
      await first.finishAuth(provider.code);
      const at = provider.stored.access_token;
      const claims = JSON.parse(Buffer.from(at.split('.')[1], 'base64url').toString());
      assert.equal(claims.iss, new URL(mcpUrl).origin, 'the proxy issued it');
      assert.equal(claims.aud, mcpUrl, 'for this resource');
      assert.equal(claims.sub, 'ada');
      await first.close();

      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
      const client = new Client({ name: 'sdk-proxy', version: '1.0.0' });
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['admin-action', 'get-user-info']);
      const who = await client.callTool({ name: 'get-user-info', arguments: {} });
      assert.equal(who.structuredContent.userId, 'ada');
      assert.equal(who.structuredContent.email, 'ada@example.com', 'from the verified ID token');
      assert.equal(who.structuredContent.hasUpstreamToken, true, 'the upstream token stays server-side');

      await assert.rejects(
        client.callTool({ name: 'admin-action', arguments: { action: 'audit' } }),
        UnauthorizedError,
        'the 403 sends the SDK to sign in again for admin',
      );
      assert.equal(provider.authorizations.length, 2);
      assert.equal(provider.authorizations[1].searchParams.get('scope'), 'openid profile email admin');
      await transport.finishAuth(provider.code);
      assert.equal(provider.granted.at(-1).scope, 'openid profile email admin');
      const admin = await client.callTool({ name: 'admin-action', arguments: { action: 'audit' } });
      assert.equal(admin.isError ?? false, false, JSON.stringify(admin));
      assert.equal(admin.content[0].text, 'ada performed `audit`');
      await client.close();
    });
  });
}
