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
