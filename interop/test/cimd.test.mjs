// Client ID Metadata Documents with the official TypeScript SDK: the client's `client_id` is
// the https URL of its metadata document (served here by Node over TLS, with a certificate
// made for the run and given to the server with MCP_OAUTH_CIMD_CA_FILE), and
// examples/quickstart_oauth's development authorization server fetches it, checks it, shows
// its host on the consent page and signs the client in with no registration. Then what an
// attacker would try: a document naming another client, a redirect, an oversized document,
// a plain-http URL, a redirect URI the document does not list, and (on a server that keeps
// the default) a document on a private address, the server-side request forgery.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

import { startServer, tempDir } from './lib/harness.mjs';
import { ScriptedProvider } from './lib/oauth-client.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';

/** The SDK's provider with a metadata document URL as its client id. */
class CimdProvider extends ScriptedProvider {
  constructor(url) {
    super(REDIRECT, 'CIMD Test App');
    this.url = url;
  }
  get clientMetadataUrl() {
    return this.url;
  }
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

describe('client ID metadata documents (the TypeScript SDK, quickstart_oauth)', () => {
  const temp = tempDir('mcp-cimd-');
  let docs;
  let base;
  let trusting;
  let consenting;
  let strict;

  before(async () => {
    // A certificate authority for the run, and the documents' host certificate it signs.
    const file = (name) => join(temp.path, name);
    const openssl = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=mcp-runtime test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', file('key.pem'), '-out', file('host.csr'), '-subj', '/CN=127.0.0.1']);
    const ext = file('host.ext');
    writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', file('host.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-out', file('host.pem'), '-days', '1', '-extfile', ext]);
    const key = file('key.pem');
    const cert = file('ca.pem');
    docs = https.createServer({ key: readFileSync(key), cert: readFileSync(file('host.pem')) }, (req, res) => {
      const doc = (extra = {}) => JSON.stringify({
        client_id: `${base}${req.url}`, client_name: 'CIMD Test App', redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'none', ...extra,
      });
      const json = (status, body, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      switch (req.url) {
        case '/client.json': return json(200, doc(), { 'cache-control': 'max-age=600' });
        case '/impostor.json': return json(200, doc({ client_id: 'https://claude.ai/oauth/client.json' }));
        case '/redirect.json': return json(302, '', { location: '/client.json' });
        case '/huge.json': return json(200, doc({ padding: 'x'.repeat(20_000) }));
        default: return json(404, '{}');
      }
    });
    await new Promise((resolve) => docs.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${docs.address().port}`;
    const fetching = { MCP_OAUTH_CIMD_ALLOW_PRIVATE: 'true', MCP_OAUTH_CIMD_CA_FILE: cert };
    trusting = await startServer('quickstart_oauth', { env: { ...fetching, MCP_USE_OAUTH_DEV_AUTO_APPROVE: 'true' } });
    consenting = await startServer('quickstart_oauth', { env: fetching });
    strict = await startServer('quickstart_oauth', { env: { MCP_OAUTH_CIMD_CA_FILE: cert } });
  }, { timeout: 60_000 });

  after(async () => {
    for (const s of [trusting, consenting, strict]) if (s) await s.stop();
    docs?.close();
    temp.remove();
  }, { timeout: 30_000 });

  /** GET the authorization endpoint of `server` for `clientId`: status and body. */
  async function authorize(server, clientId, redirect = REDIRECT) {
    const url = new URL('/oauth/authorize', server.url);
    url.search = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirect,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      state: 's', resource: server.url,
    }).toString();
    const r = await fetch(url, { redirect: 'manual' });
    return { status: r.status, body: await r.text(), location: r.headers.get('location') };
  }

  test('the SDK signs in with its document URL as client_id, with no registration', { timeout: 30_000 }, async () => {
    const meta = await (await fetch(new URL('/.well-known/oauth-authorization-server', trusting.url))).json();
    assert.equal(meta.client_id_metadata_document_supported, true);
    const url = `${base}/client.json`;
    const provider = new CimdProvider(url);
    const transport = new StreamableHTTPClientTransport(new URL(trusting.url), { authProvider: provider });
    const client = new Client({ name: 'sdk-cimd', version: '1.0.0' });
    await client.connect(transport);
    await assert.rejects(client.callTool({ name: 'get-user-info', arguments: {} }), UnauthorizedError);
    assert.equal(provider.authorizations.length, 1);
    assert.equal(provider.authorizations[0].searchParams.get('client_id'), url, 'the document URL is the client id');
    await transport.finishAuth(provider.code);
    const token = provider.granted.at(-1);
    assert.equal(claims(token.access_token).client_id, url);
    assert.ok(token.refresh_token, 'the document lists refresh_token');
    const r = await client.callTool({ name: 'get-user-info', arguments: {} });
    assert.equal(r.structuredContent.userId, 'dev-user', JSON.stringify(r));
    await client.close();
  });

  test('the consent page names the client with the host that vouches for it', { timeout: 30_000 }, async () => {
    const r = await authorize(consenting, `${base}/client.json`);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /CIMD Test App \(127\.0\.0\.1\)/);
  });

  test('documents that lie, move, bloat or are not https are refused, naming why', { timeout: 30_000 }, async () => {
    for (const [path, says] of [
      ['/impostor.json', /names another client_id/],
      ['/redirect.json', /redirects are not followed/],
      ['/huge.json', /larger than 16384 bytes/],
      ['/missing.json', /answered HTTP 404/],
    ]) {
      const r = await authorize(trusting, `${base}${path}`);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assert.match(r.body, says, path);
      assert.equal(r.location, null, 'nothing is sent to a redirect URI the server could not check');
    }
    const plain = await authorize(trusting, `http://127.0.0.1:${docs.address().port}/client.json`);
    assert.equal(plain.status, 400);
    assert.match(plain.body, /must be an https URL/);
    const elsewhere = await authorize(trusting, `${base}/client.json`, 'https://attacker.example/cb');
    assert.equal(elsewhere.status, 400);
    assert.match(elsewhere.body, /not one this client registered/);
  });

  test('a document on a private address is not fetched (server-side request forgery)', { timeout: 30_000 }, async () => {
    const r = await authorize(strict, `${base}/client.json`);
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /127\.0\.0\.1, which is not a public address/);
    assert.match(r.body, /MCP_OAUTH_CIMD_ALLOW_PRIVATE/);
  });
});
