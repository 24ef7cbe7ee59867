// The whole OAuth flow with the official TypeScript SDK client (@modelcontextprotocol/sdk,
// pinned) against examples/quickstart_oauth and its embedded development authorization
// server: a connection without a token (the server has a public tool, `about`), the 401 of a
// protected tool in that session, RFC 9728 discovery from it, RFC 8414 metadata, RFC 7591
// registration, PKCE, the code exchange, the same session going on signed in, then step-up to
// `admin` after a 403 insufficient_scope, and a refresh-token rotation.
//
// The sign-in is non-interactive: the server runs with MCP_USE_OAUTH_DEV_AUTO_APPROVE=true and
// the client's `redirectToAuthorization` follows the authorization URL itself, reading the code
// from the redirect, as a browser would hand it to the client's callback.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  UnauthorizedError,
  discoverAuthorizationServerMetadata,
  refreshAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';

import { startServer } from './lib/harness.mjs';
import { ScriptedProvider } from './lib/oauth-client.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';

describe('TypeScript SDK client signs in to examples/quickstart_oauth', () => {
  let server;
  const provider = new ScriptedProvider(REDIRECT, 'SDK interop test');
  let client;
  let transport;

  before(async () => {
    server = await startServer('quickstart_oauth', { env: { MCP_USE_OAUTH_DEV_AUTO_APPROVE: 'true' } });
  }, { timeout: 30_000 });

  after(async () => {
    await client?.close().catch(() => {});
    if (server) await server.stop();
  }, { timeout: 20_000 });

  test('connect without a token; a protected tool: 401, discovery, registration, PKCE, code exchange; the session goes on', { timeout: 30_000 }, async () => {
    transport = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider });
    client = new Client({ name: 'sdk-interop', version: '1.0.0' });
    await client.connect(transport);
    assert.equal(provider.authorizations.length, 0, 'no sign-in to connect: the server has a public tool');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['about', 'admin-action', 'get-user-info']);
    const about = await client.callTool({ name: 'about', arguments: {} });
    assert.match(about.content[0].text, /not signed in/, JSON.stringify(about));

    await assert.rejects(
      client.callTool({ name: 'get-user-info', arguments: {} }),
      UnauthorizedError,
      'a protected tool answers 401: the SDK signs in',
    );
    assert.ok(provider.client?.client_id, 'the SDK registered a client dynamically');
    assert.equal(provider.authorizations.length, 1);
    const auth = provider.authorizations[0];
    assert.equal(auth.pathname, '/oauth/authorize');
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('resource'), server.url, 'RFC 8707 resource is the MCP endpoint');
    assert.equal(auth.searchParams.get('scope'), 'openid profile email', 'least privilege: the 401 baseline');

    const session = transport.sessionId;
    await transport.finishAuth(provider.code);
    assert.equal(provider.granted.length, 1);
    assert.equal(provider.granted[0].token_type.toLowerCase(), 'bearer');
    assert.equal(provider.granted[0].scope, 'openid profile email');
    assert.ok(provider.granted[0].refresh_token, 'a refresh token is issued');
    const signedIn = await client.callTool({ name: 'about', arguments: {} });
    assert.equal(signedIn.content[0].text, 'quickstart-oauth, signed in as dev-user');
    assert.equal(transport.sessionId, session, 'the session started without a token goes on');
  });

  test('get-user-info sees the signed-in user', { timeout: 15_000 }, async () => {
    const r = await client.callTool({ name: 'get-user-info', arguments: {} });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(r.structuredContent.userId, 'dev-user');
    assert.equal(r.structuredContent.email, 'dev-user@localhost');
    assert.deepEqual(r.structuredContent.scopes, ['openid', 'profile', 'email']);
  });

  test('admin-action: 403 insufficient_scope, step-up to admin, then it runs', { timeout: 30_000 }, async () => {
    await assert.rejects(
      client.callTool({ name: 'admin-action', arguments: { action: 'reset' } }),
      UnauthorizedError,
      'the 403 sends the SDK to sign in again for the missing scope',
    );
    assert.equal(provider.authorizations.length, 2);
    assert.equal(
      provider.authorizations[1].searchParams.get('scope'),
      'openid profile email admin',
      'the 403 challenge names `admin` (with the baseline, so that the new token keeps it)',
    );

    await transport.finishAuth(provider.code);
    assert.equal(provider.granted.at(-1).scope, 'openid profile email admin');
    const r = await client.callTool({ name: 'admin-action', arguments: { action: 'reset' } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(r.content[0].text, 'dev-user performed `reset`');
  });

  test('refresh tokens rotate; a spent one is refused', { timeout: 15_000 }, async () => {
    const issuer = new URL(server.url).origin;
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    assert.equal(metadata.issuer, issuer);
    const old = provider.granted.at(-1).refresh_token;
    const fresh = await refreshAuthorization(issuer, {
      metadata,
      clientInformation: provider.client,
      refreshToken: old,
      resource: new URL(server.url),
    });
    assert.equal(fresh.scope, 'openid profile email admin');
    assert.ok(fresh.access_token && fresh.refresh_token && fresh.refresh_token !== old);

    // The refreshed access token works.
    const resp = await fetch(server.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${fresh.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    assert.equal(resp.status, 200, await resp.text());

    await assert.rejects(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.client, refreshToken: old }),
      (err) => err.constructor.name === 'InvalidGrantError' && /already used|unknown/.test(err.message),
    );
  });
});
