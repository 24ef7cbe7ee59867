// An in-memory OAuthClientProvider for the TypeScript SDK client: a public client (PKCE, no
// secret) that registers dynamically and keeps what the SDK hands it. Tests extend it with
// their own `redirectToAuthorization`, which plays the browser.

export class MemoryOAuthClient {
  constructor(redirectUrl, clientName) {
    this.redirect = redirectUrl;
    this.name = clientName;
    this.client = undefined;
    this.stored = undefined;
    this.verifier = undefined;
    this.code = undefined;
    this.authorizations = []; // every authorization URL the SDK sent us to
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens) {
    this.stored = tokens;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * A client that signs in by following the authorization URL itself (an auto-approving
 * authorization server), reading the code from the redirect as a browser would hand it to the
 * client's callback. It keeps every token response (`granted`), and gives the SDK no refresh
 * token (a refresh keeps the old scopes, so step-up needs a new authorization; tests use the
 * refresh tokens themselves).
 */
export class ScriptedProvider extends MemoryOAuthClient {
  constructor(redirectUrl, clientName) {
    super(redirectUrl, clientName);
    this.granted = [];
    this.n = 0;
  }
  state() {
    this.n += 1;
    return `state-${this.n}`;
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
  async redirectToAuthorization(url) {
    this.authorizations.push(new URL(url));
    const resp = await fetch(url, { redirect: 'manual' });
    if (resp.status !== 302) {
      throw new Error(`the authorization endpoint answered ${resp.status}: ${await resp.text()}`);
    }
    const back = new URL(resp.headers.get('location'));
    const problems = [];
    if (`${back.origin}${back.pathname}` !== this.redirect) problems.push(`redirected to ${back}`);
    if (back.searchParams.get('state') !== `state-${this.n}`) problems.push('state did not come back unchanged');
    if (back.searchParams.get('iss') !== url.origin) problems.push('RFC 9207 iss does not name the issuer');
    if (back.searchParams.get('error') !== null) problems.push(`error: ${back}`);
    this.code = back.searchParams.get('code');
    if (!this.code) problems.push(`no code: ${back}`);
    if (problems.length) throw new Error(problems.join('; '));
  }
}
