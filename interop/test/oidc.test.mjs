// End-to-end against a real OpenID provider nobody here wrote: `oidc-provider` (pinned) runs on
// 127.0.0.1 with dynamic registration, PKCE and RFC 8707 resource indicators (JWT access tokens
// for the MCP URL); examples/oauth_custom is configured from MCP_USE_OAUTH_CUSTOM_* alone; the
// official TypeScript SDK client signs in through discovery and dynamic registration, then lists
// and calls tools. Login and consent are approved by an interaction handler, and the client
// follows the redirects itself, keeping cookies, as a browser would.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import Provider from 'oidc-provider';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { startServer } from './lib/harness.mjs';
import { MemoryOAuthClient } from './lib/oauth-client.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';
const SCOPES = 'openid profile email admin';

/** Starts oidc-provider on an ephemeral port; resolves `{ issuer, close }`. */
async function startIssuer(resourceOk) {
  const http = createServer();
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${http.address().port}`;
  const provider = new Provider(issuer, {
    clients: [],
    scopes: ['openid', 'profile', 'email', 'admin', 'offline_access'],
    claims: { email: ['email'], profile: ['name'] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!resourceOk(resource)) throw new Error(`unknown resource ${resource}`);
          return {
            scope: 'openid profile email admin',
            audience: resource,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: 'ada@example.com', name: 'Ada Lovelace' }),
    }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  // Approve every login (as `ada`) and every consent.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: 'ada' } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missingOidc = prompt.details.missingOIDCScope;
      if (missingOidc) grant.addOIDCScope(missingOidc.join(' '));
      const missingRes = prompt.details.missingResourceScopes;
      if (missingRes) {
        for (const [indicator, scopes] of Object.entries(missingRes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  });
  http.on('request', provider.callback());
  return { issuer, close: () => new Promise((r) => http.close(r)) };
}

/** A client that follows the authorization redirects itself, with cookies, as a browser does. */
class BrowserlessProvider extends MemoryOAuthClient {
  constructor() {
    super(REDIRECT, 'SDK interop (oidc-provider)');
  }
  async redirectToAuthorization(url) {
    this.authorizations.push(new URL(url));
    const jar = new Map();
    let next = url.toString();
    for (let hop = 0; hop < 20; hop += 1) {
      if (next.startsWith(REDIRECT)) {
        const back = new URL(next);
        assert.equal(back.searchParams.get('error'), null, back.toString());
        this.code = back.searchParams.get('code');
        assert.ok(this.code, back.toString());
        return;
      }
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const resp = await fetch(next, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const c of resp.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        jar.set(pair.slice(0, i), pair.slice(i + 1));
      }
      const location = resp.headers.get('location');
      assert.ok(location, `no redirect from ${next}: ${resp.status} ${await resp.text()}`);
      next = new URL(location, next).toString();
    }
    throw new Error('too many redirects');
  }
}

describe('TypeScript SDK client, oidc-provider and examples/oauth_custom', () => {
  let issuer;
  let server;
  let mcpUrl = '';

  before(async () => {
    issuer = await startIssuer((resource) => resource === mcpUrl);
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
