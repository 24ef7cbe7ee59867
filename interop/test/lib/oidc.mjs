// oidc-provider (pinned) on 127.0.0.1 for the interop tests: a certified OpenID provider nobody
// here wrote, with PKCE and RFC 8707 resource indicators (JWT access tokens for the MCP URL),
// with or without dynamic registration, and an interaction handler that approves every login
// (as `ada`) and every consent. Also a client that plays the browser.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { startServer } from './harness.mjs';
import { MemoryOAuthClient } from './oauth-client.mjs';

export const REDIRECT = 'http://127.0.0.1:9/callback';

/**
 * Starts oidc-provider on an ephemeral port. The provider is made on first use, so that
 * `clients(issuer)` can name URLs known only after this returns (a proxy's callback).
 * Resolves `{ issuer, close }`.
 */
export async function startIssuer({ resourceOk, registration = true, clients = () => [], features = {} }) {
  const http = createServer();
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${http.address().port}`;
  let provider;
  const make = () => {
    const p = new Provider(issuer, {
      clients: clients(issuer),
      scopes: ['openid', 'profile', 'email', 'admin', 'offline_access'],
      claims: { email: ['email'], profile: ['name'] },
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: registration },
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
        ...features,
      },
      findAccount: (_ctx, sub) => ({
        accountId: sub,
        claims: () => ({ sub, email: 'ada@example.com', name: 'Ada Lovelace' }),
      }),
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    });
    // Approve every login (as `ada`) and every consent.
    p.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/interaction/')) return next();
      const details = await p.interactionDetails(ctx.req, ctx.res);
      const { prompt, params, session } = details;
      let result;
      if (prompt.name === 'login') {
        result = { login: { accountId: 'ada' } };
      } else {
        const grant = details.grantId
          ? await p.Grant.find(details.grantId)
          : new p.Grant({ accountId: session.accountId, clientId: params.client_id });
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
      await p.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    });
    return p;
  };
  http.on('request', (req, res) => {
    provider ??= make();
    provider.callback()(req, res);
  });
  return { issuer, close: () => new Promise((r) => http.close(r)) };
}

/** A client that follows the authorization redirects itself, with cookies, as a browser does. */
export class BrowserlessProvider extends MemoryOAuthClient {
  constructor(name = 'SDK interop (oidc-provider)') {
    super(REDIRECT, name);
  }
  async redirectToAuthorization(url) {
    this.authorizations.push(new URL(url));
    const back = new URL(await followRedirects(url.toString(), REDIRECT));
    assert.equal(back.searchParams.get('error'), null, back.toString());
    this.code = back.searchParams.get('code');
    assert.ok(this.code, back.toString());
  }
}

/** A browserless provider that holds no refresh token where the SDK would use it on a 403, so
 * that step-up re-authorizes; `granted` keeps every token response. */
export class StepUpProvider extends BrowserlessProvider {
  constructor(name) {
    super(name);
    this.granted = [];
  }
  tokens() {
    if (!this.stored) return undefined;
    const { refresh_token: _unused, ...rest } = this.stored;
    return rest;
  }
  saveTokens(tokens) {
    super.saveTokens(tokens);
    this.granted.push(tokens);
  }
}

/**
 * Follows redirects from `url` as a browser does, keeping cookies, until a URL that starts
 * with `stop`; resolves that URL. With `fetchStop`, that URL is fetched too (a callback that
 * must hear the answer).
 */
export async function followRedirects(url, stop, { fetchStop = false } = {}) {
  const jar = new Map();
  let next = url;
  for (let hop = 0; hop < 20; hop += 1) {
    if (next.startsWith(stop) && !fetchStop) return next;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const resp = await fetch(next, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    if (next.startsWith(stop)) return next;
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

/**
 * oidc-provider without dynamic registration, knowing only the proxy's confidential client,
 * and examples/oauth_proxy in front of it, configured from its environment alone.
 * Resolves `{ idp, server, stop() }`.
 */
export async function startProxy({ tokenAuth = 'client_secret_basic', autoApprove = true } = {}) {
  let mcpUrl = '';
  const idp = await startIssuer({
    registration: false,
    resourceOk: (r) => r === mcpUrl,
    clients: () => [{
      client_id: 'mcp-proxy',
      client_secret: 'proxy-secret-0123456789',
      redirect_uris: [`${new URL(mcpUrl).origin}/oauth/callback`],
      token_endpoint_auth_method: tokenAuth,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }],
  });
  const env = {
    MCP_USE_OAUTH_PROXY_AUTH_ENDPOINT: `${idp.issuer}/auth`,
    MCP_USE_OAUTH_PROXY_TOKEN_ENDPOINT: `${idp.issuer}/token`,
    MCP_USE_OAUTH_PROXY_ISSUER: idp.issuer,
    MCP_USE_OAUTH_PROXY_JWKS_URL: `${idp.issuer}/jwks`,
    MCP_USE_OAUTH_PROXY_CLIENT_ID: 'mcp-proxy',
    MCP_USE_OAUTH_PROXY_CLIENT_SECRET: 'proxy-secret-0123456789',
    MCP_USE_OAUTH_PROXY_TOKEN_AUTH: tokenAuth,
    MCP_USE_OAUTH_PROXY_FORWARD_RESOURCE: 'true',
    MCP_STORE_URL: 'memory:',
  };
  if (autoApprove) env.MCP_USE_OAUTH_PROXY_AUTO_APPROVE = 'true';
  let server;
  try {
    server = await startServer('oauth_proxy', { env });
  } catch (e) {
    await idp.close();
    throw e;
  }
  mcpUrl = server.url;
  return {
    idp,
    server,
    stop: async () => {
      await server.stop();
      await idp.close();
    },
  };
}
