// Machine-to-machine sign-in with the official TypeScript SDK's providers
// (@modelcontextprotocol/sdk's ClientCredentialsProvider and PrivateKeyJwtProvider, pinned)
// against examples/quickstart_oauth, whose development authorization server has two service
// clients registered through MCP_OAUTH_CLIENTS: one with a secret (client_secret_basic), one
// with a P-256 key (private_key_jwt, RFC 7523). Each gets a token with the client-credentials
// grant, no browser, and calls the tool that needs `admin`.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';

import { startServer } from './lib/harness.mjs';

const SECRET = 'interop-service-secret-0123456789abcdef';

describe('TypeScript SDK machine clients against examples/quickstart_oauth', () => {
  let server;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig' };

  before(async () => {
    server = await startServer('quickstart_oauth', {
      env: {
        MCP_OAUTH_CLIENTS: JSON.stringify([
          { client_id: 'sdk-reporter', client_secret: SECRET, scope: 'admin' },
          { client_id: 'sdk-signer', jwks: { keys: [jwk] }, scope: 'admin' },
        ]),
      },
    });
  }, { timeout: 30_000 });

  after(async () => {
    if (server) await server.stop();
  }, { timeout: 20_000 });

  const issuer = () => new URL(server.url).origin;

  async function callAdmin(provider) {
    const transport = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider });
    const client = new Client({ name: 'sdk-machine', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'admin-action', arguments: { action: 'nightly' } });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      return result;
    } finally {
      await client.close();
    }
  }

  test('ClientCredentialsProvider (client_secret_basic)', { timeout: 30_000 }, async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'sdk-reporter', clientSecret: SECRET, scope: 'admin', expectedIssuer: issuer(),
    });
    await callAdmin(provider);
    const tokens = provider.tokens();
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'admin');
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for a machine');
  });

  test('PrivateKeyJwtProvider (private_key_jwt, ES256)', { timeout: 30_000 }, async () => {
    const provider = new PrivateKeyJwtProvider({
      clientId: 'sdk-signer',
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }),
      algorithm: 'ES256',
      scope: 'admin',
      expectedIssuer: issuer(),
    });
    await callAdmin(provider);
    assert.equal(provider.tokens().scope, 'admin');
  });

  test('a wrong secret is refused with invalid_client', { timeout: 30_000 }, async () => {
    const provider = new ClientCredentialsProvider({
      clientId: 'sdk-reporter', clientSecret: `${SECRET}x`, scope: 'admin', expectedIssuer: issuer(),
    });
    const transport = new StreamableHTTPClientTransport(new URL(server.url), { authProvider: provider });
    const client = new Client({ name: 'sdk-machine', version: '1.0.0' });
    // Connecting needs no token (the server has a public tool); the protected call does.
    await client.connect(transport);
    await assert.rejects(
      client.callTool({ name: 'admin-action', arguments: { action: 'nightly' } }),
      /invalid_client|Invalid client|secret is wrong/i,
    );
    await client.close();
  });
});
