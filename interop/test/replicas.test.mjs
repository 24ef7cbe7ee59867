// Two replicas of examples/quickstart_oauth behind a round-robin load balancer (nginx, from
// Debian's packages), sharing one Redis (MCP_STORE_URL): the official TypeScript SDK client
// signs in through the balancer (discovery, DCR, authorize, code, token), calls tools, steps up
// and refreshes, with consecutive requests landing on different replicas (nginx names the
// replica of every response in X-Upstream). Then one replica is killed and the client goes on
// on the other; then Redis restarts (with its append-only file): the authorization server
// answers 503 during the outage, and everything Redis persisted works after. Then the same
// with two replicas of examples/oauth_proxy in front of oidc-provider (no DCR there): the
// sign-in crosses both replicas (the provider's callback lands wherever the balancer sends
// it), the upstream tokens decrypt on either, step-up works, the proxy's refresh tokens rotate
// across them, a killed replica leaves the other serving, and a Redis restart costs 503s
// during the outage and nothing it persisted.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  UnauthorizedError,
  discoverAuthorizationServerMetadata,
  refreshAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';

import { startServer, tempDir } from './lib/harness.mjs';
import { StepUpProvider, startIssuer } from './lib/oidc.mjs';
import { ScriptedProvider } from './lib/oauth-client.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';
/** Debian puts nginx in /usr/sbin, which a user's PATH may lack. */
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** A free port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts connections on `port`. */
async function listening(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A child process that must be running; its output kept for failure reports. */
function run(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  const exited = new Promise((r) => child.once('exit', r));
  child.once('error', (e) => { out += `\nfailed to start ${cmd}: ${e.message}`; });
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An nginx configuration in `dir`: round robin on 127.0.0.1:`lbPort` to the `replicas`,
 * naming the replica of every response in X-Upstream. */
function writeNginx(dir, lbPort, replicas) {
  const addr = (s) => new URL(s.url).host;
  const root = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `
${root}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream replicas {
    ${replicas.map((r) => `server ${addr(r)} max_fails=1 fail_timeout=30s;`).join('\n    ')}
  }
  server {
    listen 127.0.0.1:${lbPort};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_next_upstream error timeout;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`);
}

/** Starts nginx on the configuration `writeNginx` left in `dir`. */
function startNginx(dir) {
  return run(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]);
}

/** Every response's X-Upstream (the replica nginx chose), in order; `traffic` says what each
 * request was (method, and the JSON-RPC method of a POST). */
const upstreams = [];
const traffic = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const resp = await realFetch(input, init);
  const via = resp.headers.get('x-upstream');
  if (via) {
    upstreams.push(via);
    const body = typeof init?.body === 'string' ? init.body : '';
    traffic.push({ via, method: init?.method ?? 'GET', rpc: /"method":"([^"]+)"/.exec(body)?.[1] });
  }
  return resp;
};

/** Calls `get-user-info` `n` times through the balancer, checks each answer with `check`, and
 * asserts that round robin alternated the calls between the replicas. The SDK opens its GET
 * stream in the background after connecting (`since`: the traffic before the connect); once open
 * it takes no more turns, so this waits for it first, and fails if any other request came
 * through meanwhile. */
async function callsAlternate(client, since, n, check) {
  const settle = Date.now() + 2_000;
  while (!traffic.slice(since).some((t) => t.method === 'GET') && Date.now() < settle) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 100));
  const before = traffic.length;
  for (let i = 0; i < n; i += 1) {
    check(await client.callTool({ name: 'get-user-info', arguments: {} }));
  }
  const during = traffic.slice(before);
  const calls = during.filter((t) => t.rpc === 'tools/call').map((t) => t.via);
  assert.equal(calls.length, n, JSON.stringify(during));
  assert.equal(during.length, n, `requests besides the calls: ${JSON.stringify(during)}`);
  for (let i = 1; i < calls.length; i += 1) {
    assert.notEqual(calls[i], calls[i - 1], `consecutive MCP requests alternate between replicas: ${calls}`);
  }
}

/** A 2026-07-28 `tools/call` of `tool` with `token` (no session): the fetch response. */
function call2026(url, token, tool, id = 1) {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': tool,
    },
    body: JSON.stringify({
      jsonrpc: '2.0', id, method: 'tools/call',
      params: {
        name: tool, arguments: {},
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  });
}

/** Refreshes `refreshToken` at `issuer`, retrying while the server answers 503 (its store is
 * coming back): the new tokens. */
async function refreshOnceUp(issuer, metadata, provider, refreshToken, resource) {
  for (let i = 0; i < 50; i += 1) {
    const fresh = await refreshAuthorization(issuer, {
      metadata, clientInformation: provider.client, refreshToken, resource: new URL(resource),
    }).catch((e) => (/503|unavailable/i.test(String(e)) ? undefined : Promise.reject(e)));
    if (fresh) return fresh;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

/** A new sign-in through `url` with `provider` (a new client): its tokens, persisted by the
 * authorization server before anything else happens. */
async function signInAgain(url, provider, name) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  provider.stored = undefined;
  const c = new Client({ name, version: '1.0.0' });
  // quickstart_oauth has a public tool: connecting needs no token, a protected tool does. The
  // proxy's example has none: connecting needs the sign-in.
  const connected = await c.connect(transport).then(() => true, (e) => {
    assert.ok(e instanceof UnauthorizedError, String(e));
    return false;
  });
  if (connected) {
    await assert.rejects(c.callTool({ name: 'get-user-info', arguments: {} }), UnauthorizedError);
  }
  await transport.finishAuth(provider.code);
  await c.close().catch(() => {});
  const saved = provider.granted.at(-1);
  assert.ok(saved.refresh_token);
  return saved;
}

/** A refresh-token grant posted to `tokenEndpoint` by hand: the response. */
function refreshByHand(tokenEndpoint, provider, refreshToken) {
  return fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token', refresh_token: refreshToken, client_id: provider.client.client_id,
    }),
  });
}

/** A revoked grant's access token is refused through the balancer on both replicas: at once on
 * the one that saw the replay, within 5 seconds on the other (it reads revocations from Redis). */
async function refusedEverywhere(url, accessToken) {
  const deadline = Date.now() + 7_000;
  let inARow = 0;
  for (;;) {
    const r = await call2026(url, accessToken, 'get-user-info');
    const challenge = r.headers.get('www-authenticate') ?? '';
    await r.text();
    if (r.status === 401) {
      assert.match(challenge, /the token's grant was revoked/, challenge);
      inARow += 1;
      if (inARow >= 4) return;
    } else {
      assert.equal(r.status, 200);
      inARow = 0;
      assert.ok(Date.now() < deadline, 'a replica still accepts the revoked grant after 7 s');
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}

/** Kills the first replica, then calls `get-user-info` four times through the balancer,
 * checking each answer with `check`: all answered by the survivor. */
async function killOneAndGoOn(replicas, client, check) {
  const killed = new URL(replicas[0].url).host;
  replicas[0].child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const before = upstreams.length;
  for (let i = 0; i < 4; i += 1) {
    check(await client.callTool({ name: 'get-user-info', arguments: {} }));
  }
  const after = upstreams.slice(before);
  assert.ok(after.every((u) => u.split(', ').at(-1) !== killed), `answered by the survivor: ${after}`);
}

describe('two replicas behind nginx, sharing Redis, with the TypeScript SDK client', () => {
  const temp = tempDir('mcp-replicas-');
  const dir = temp.path;
  let redisPort;
  let redis;
  let nginx;
  let publicUrl;
  const replicas = [];
  const provider = new ScriptedProvider(REDIRECT, 'SDK replicas test');
  let client;
  let transport;

  const startRedis = () => run('redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--dir', dir, '--protected-mode', 'no',
  ]);

  before(async () => {
    redisPort = await freePort();
    redis = startRedis();
    await listening(redisPort);
    const lbPort = await freePort();
    publicUrl = `http://127.0.0.1:${lbPort}/mcp`;
    const env = {
      MCP_URL: publicUrl,
      MCP_STORE_URL: `redis://127.0.0.1:${redisPort}`,
      MCP_USE_OAUTH_DEV_AUTO_APPROVE: 'true',
      // The same on every replica: the signing keys are kept encrypted in Redis.
      MCP_STORE_ENCRYPTION_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    };
    for (let i = 0; i < 2; i += 1) replicas.push(await startServer('quickstart_oauth', { env }));
    writeNginx(dir, lbPort, replicas);
    nginx = startNginx(dir);
    await listening(lbPort);
  }, { timeout: 60_000 });

  after(async () => {
    await client?.close().catch(() => {});
    await nginx?.stop();
    for (const r of replicas) await r.stop();
    await redis?.stop();
    temp.remove();
  }, { timeout: 30_000 });

  test('sign-in, tools and step-up through the balancer, landing on both replicas', { timeout: 60_000 }, async () => {
    const first = new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider });
    const c = new Client({ name: 'sdk-replicas', version: '1.0.0' });
    await c.connect(first);
    await assert.rejects(
      c.callTool({ name: 'get-user-info', arguments: {} }),
      UnauthorizedError,
      'a protected tool needs a sign-in (connecting does not: the server has a public tool)',
    );
    assert.ok(provider.client?.client_id, 'registered dynamically');
    await first.finishAuth(provider.code);
    await first.close();
    const signIn = [...new Set(upstreams)];
    assert.equal(signIn.length, 2, `discovery, registration, authorization and token used both replicas: ${upstreams}`);

    transport = new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider });
    client = new Client({ name: 'sdk-replicas', version: '1.0.0' });
    const connected = traffic.length;
    await client.connect(transport);
    await callsAlternate(client, connected, 6, (r) => assert.equal(r.structuredContent.userId, 'dev-user', JSON.stringify(r)));

    await assert.rejects(
      client.callTool({ name: 'admin-action', arguments: { action: 'reset' } }),
      UnauthorizedError,
      'a 403 sends the SDK to sign in again for `admin`',
    );
    await transport.finishAuth(provider.code);
    assert.equal(provider.granted.at(-1).scope, 'openid profile email admin');
    const r = await client.callTool({ name: 'admin-action', arguments: { action: 'reset' } });
    assert.equal(r.content[0].text, 'dev-user performed `reset`', JSON.stringify(r));
  });

  test('refresh tokens rotate across replicas; a spent one is refused', { timeout: 30_000 }, async () => {
    const issuer = new URL(publicUrl).origin;
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    const old = provider.granted.at(-1).refresh_token;
    const fresh = await refreshAuthorization(issuer, {
      metadata, clientInformation: provider.client, refreshToken: old, resource: new URL(publicUrl),
    });
    assert.ok(fresh.refresh_token && fresh.refresh_token !== old);
    provider.granted.push(fresh);
    await assert.rejects(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.client, refreshToken: old }),
      (err) => err.constructor.name === 'InvalidGrantError',
    );
    // The rotated token is revoked with its family (reuse detection), on whichever replica.
    await assert.rejects(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.client, refreshToken: fresh.refresh_token }),
      (err) => err.constructor.name === 'InvalidGrantError',
    );
    // And so are the grant's access tokens, on both replicas; the client signs in again.
    await refusedEverywhere(publicUrl, fresh.access_token);
    await signInAgain(publicUrl, provider, 'sdk-replicas-again');
  });

  test('one replica killed: the client goes on on the other', { timeout: 30_000 }, async () => {
    await killOneAndGoOn(replicas, client, (r) => assert.equal(r.structuredContent.userId, 'dev-user', JSON.stringify(r)));
  });

  test('Redis restarted: 503 while it is down, and what it persisted works after', { timeout: 60_000 }, async () => {
    const issuer = new URL(publicUrl).origin;
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    // A fresh sign-in's refresh token, persisted in Redis before the outage.
    const saved = await signInAgain(publicUrl, provider, 'sdk-replicas-2');
    await redis.stop();
    const during = await refreshByHand(metadata.token_endpoint, provider, saved.refresh_token);
    assert.equal(during.status, 503, await during.text());
    // Access tokens need no store: they still open the endpoint.
    const verified = await call2026(publicUrl, saved.access_token, 'get-user-info');
    assert.equal(verified.status, 200, await verified.text());

    redis = startRedis();
    await listening(redisPort);
    const fresh = await refreshOnceUp(issuer, metadata, provider, saved.refresh_token, publicUrl);
    assert.ok(fresh?.access_token, 'the refresh token Redis persisted works after the restart');
  });
});

describe('two OAuth proxy replicas behind nginx, sharing Redis, in front of oidc-provider', () => {
  const temp = tempDir('mcp-proxy-replicas-');
  const dir = temp.path;
  let redisPort;
  let redis;
  let nginx;
  let idp;
  let publicUrl;
  const replicas = [];
  const provider = new StepUpProvider('SDK through proxy replicas');
  let client;

  const startRedis = () => run('redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--dir', dir, '--protected-mode', 'no',
  ]);

  before(async () => {
    redisPort = await freePort();
    redis = startRedis();
    await listening(redisPort);
    const lbPort = await freePort();
    publicUrl = `http://127.0.0.1:${lbPort}/mcp`;
    // The provider knows the proxy's one client, whose callback is the balancer's.
    idp = await startIssuer({
      registration: false,
      resourceOk: (r) => r === publicUrl,
      clients: () => [{
        client_id: 'mcp-proxy',
        client_secret: 'proxy-secret-0123456789',
        redirect_uris: [`http://127.0.0.1:${lbPort}/oauth/callback`],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }],
    });
    const env = {
      MCP_URL: publicUrl,
      MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT: `${idp.issuer}/auth`,
      MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT: `${idp.issuer}/token`,
      MCP_USE_OAUTH_PROXY_ISSUER: idp.issuer,
      MCP_USE_OAUTH_PROXY_JWKS_URL: `${idp.issuer}/jwks`,
      MCP_USE_OAUTH_PROXY_CLIENT_ID: 'mcp-proxy',
      MCP_USE_OAUTH_PROXY_CLIENT_SECRET: 'proxy-secret-0123456789',
      MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE: 'true',
      MCP_USE_OAUTH_PROXY_AUTO_APPROVE: 'true',
      MCP_STORE_URL: `redis://127.0.0.1:${redisPort}`,
      // The same on every replica: each opens the upstream tokens the others stored.
      MCP_STORE_ENCRYPTION_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
    };
    for (let i = 0; i < 2; i += 1) replicas.push(await startServer('oauth_proxy', { env }));
    writeNginx(dir, lbPort, replicas);
    nginx = startNginx(dir);
    await listening(lbPort);
  }, { timeout: 60_000 });

  after(async () => {
    await client?.close().catch(() => {});
    await nginx?.stop();
    for (const r of replicas) await r.stop();
    await idp?.close();
    await redis?.stop();
    temp.remove();
  }, { timeout: 30_000 });

  test('sign-in through the proxy, tools and step-up, across both replicas', { timeout: 60_000 }, async () => {
    const first = new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider });
    const c = new Client({ name: 'sdk-proxy-replicas', version: '1.0.0' });
    const start = upstreams.length;
    await assert.rejects(c.connect(first), UnauthorizedError, 'the first connect needs a sign-in');
    assert.ok(provider.client?.client_id, 'registered with the proxy (the provider has no DCR)');
    await first.finishAuth(provider.code);
    await first.close();
    const signIn = new Set(upstreams.slice(start));
    assert.equal(signIn.size, 2, `the sign-in crossed both replicas: ${[...signIn]}`);

    const transport = new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider });
    client = new Client({ name: 'sdk-proxy-replicas', version: '1.0.0' });
    const connected = traffic.length;
    await client.connect(transport);
    await callsAlternate(client, connected, 4, (r) => {
      assert.equal(r.structuredContent.email, 'ada@example.com', JSON.stringify(r));
      assert.equal(r.structuredContent.hasUpstreamToken, true, 'the upstream token decrypts on either replica');
    });
    await assert.rejects(
      client.callTool({ name: 'admin-action', arguments: { action: 'reset' } }),
      UnauthorizedError,
      'a 403 sends the SDK to sign in again for `admin`',
    );
    await transport.finishAuth(provider.code);
    const r = await client.callTool({ name: 'admin-action', arguments: { action: 'reset' } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
  });

  test('the proxy\'s refresh tokens rotate across replicas; a spent one revokes its family', { timeout: 30_000 }, async () => {
    const issuer = new URL(publicUrl).origin;
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    const old = provider.granted.at(-1).refresh_token;
    assert.ok(old, 'the proxy issued a refresh token');
    const before = upstreams.length;
    const fresh = await refreshAuthorization(issuer, {
      metadata, clientInformation: provider.client, refreshToken: old, resource: new URL(publicUrl),
    });
    assert.ok(fresh.refresh_token && fresh.refresh_token !== old);
    await assert.rejects(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.client, refreshToken: old }),
      (err) => err.constructor.name === 'InvalidGrantError',
    );
    await assert.rejects(
      refreshAuthorization(issuer, { metadata, clientInformation: provider.client, refreshToken: fresh.refresh_token }),
      (err) => err.constructor.name === 'InvalidGrantError',
    );
    assert.equal(new Set(upstreams.slice(before)).size, 2, `the refreshes crossed both replicas: ${upstreams.slice(before)}`);
    // The grant's access tokens are revoked too, on both replicas; the client signs in again.
    await refusedEverywhere(publicUrl, fresh.access_token);
    await signInAgain(publicUrl, provider, 'sdk-proxy-replicas-again');
  });

  test('one proxy replica killed: the client goes on on the other, upstream token and all', { timeout: 30_000 }, async () => {
    await killOneAndGoOn(replicas, client, (r) => assert.equal(r.structuredContent.hasUpstreamToken, true, JSON.stringify(r)));
  });

  test('Redis restarted under the proxy: 503 while it is down, and what it persisted works after', { timeout: 60_000 }, async () => {
    const issuer = new URL(publicUrl).origin;
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    // A fresh sign-in's refresh token, persisted in Redis before the outage (the last one's
    // family was revoked by the replay above).
    const saved = await signInAgain(publicUrl, provider, 'sdk-proxy-replicas-2');
    await redis.stop();
    const during = await refreshByHand(metadata.token_endpoint, provider, saved.refresh_token);
    const body = await during.text();
    assert.equal(during.status, 503, body);
    assert.equal(JSON.parse(body).error, 'temporarily_unavailable', body);
    // The proxy's access tokens need no store to verify.
    const verified = await call2026(publicUrl, saved.access_token, 'get-user-info');
    assert.equal(verified.status, 200, await verified.text());

    redis = startRedis();
    await listening(redisPort);
    const fresh = await refreshOnceUp(issuer, metadata, provider, saved.refresh_token, publicUrl);
    assert.ok(fresh?.access_token, 'the refresh token Redis persisted works after the restart');
    // The upstream tokens it persisted (encrypted) still reach tools, through the new token.
    const after = await call2026(publicUrl, fresh.access_token, 'get-user-info', 2);
    const result = await after.json();
    assert.equal(result.result?.structuredContent?.hasUpstreamToken, true, JSON.stringify(result));
  });
});
