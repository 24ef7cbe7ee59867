//! `POST /oauth/token`: the authorization-code and refresh-token grants, and client
//! authentication.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use serde_json::{Value, json};

use super::params::{
    has_media_type, is_b64url, parse_params, pct_decode, random_token, sha256, unix_now,
};
use super::responses::{client_error, no_store, not_started, oauth_error, token_error};
use super::service::{
    ASSERTION_ALGORITHMS, Credential, JWT_BEARER_ASSERTION, MAX_ASSERTION_LIFETIME, assertion_key,
};
use super::state::{Client, Code, Refresh, Spent, User, code_key, hashed, unavailable};
use super::{AuthServer, MAX_REFRESH, REDEEMED_TTL, REFRESH_TTL};
use crate::store::Space;

impl AuthServer {
    /// `POST /oauth/token`.
    pub(super) async fn token(&self, req: &HttpRequest, body: &Bytes) -> HttpResponse {
        let Some(issuer) = self.issuer() else {
            return not_started();
        };
        let (params, client_id) = match self.client_form(req, body, "token").await {
            Ok(form) => form,
            Err(resp) => return *resp,
        };
        let get = |k: &str| params.get(k).map(String::as_str);
        if let Err(msg) = self.check_resource(get("resource")) {
            return token_error("invalid_target", &msg);
        }
        // DPoP (RFC 9449 §5): a proof binds what is issued to its key.
        let dpop_jkt = match req.headers().get("dpop") {
            None => None,
            Some(_) if self.pass_through() => None,
            Some(v) => {
                let endpoint = format!("{issuer}{}", self.paths().token);
                let checked = v
                    .to_str()
                    .map_err(|_| crate::auth::AuthError::InvalidDpopProof("not ASCII".into()))
                    .and_then(|p| {
                        crate::auth::dpop::check_token_request(
                            p,
                            &endpoint,
                            unix_now(),
                            &self.dpop_replays,
                            self.dpop_nonces.as_ref(),
                        )
                    });
                match checked {
                    Ok(jkt) => Some(jkt),
                    Err(crate::auth::AuthError::UseDpopNonce(nonce)) => {
                        // RFC 9449 §8: the client makes its proof again with this nonce.
                        let mut resp = token_error(
                            "use_dpop_nonce",
                            "send the DPoP proof again with the nonce in the DPoP-Nonce header",
                        );
                        if let Ok(v) = header::HeaderValue::from_str(&nonce) {
                            resp.headers_mut()
                                .insert(header::HeaderName::from_static("dpop-nonce"), v);
                        }
                        return resp;
                    }
                    Err(e) => return token_error("invalid_dpop_proof", &e.to_string()),
                }
            }
        };
        let service = self.services.get(&client_id);
        if service.is_some() && get("grant_type").is_some_and(|g| g != "client_credentials") {
            return token_error(
                "unauthorized_client",
                "this client is a service client: it may use the client_credentials grant only",
            );
        }
        let (scopes, user, family) = match get("grant_type") {
            Some("client_credentials") => {
                let Some(service) = service else {
                    return token_error(
                        "unauthorized_client",
                        "only clients the operator registers (service clients) may use the \
                         client_credentials grant; sign in with authorization_code instead",
                    );
                };
                if self.pass_through() {
                    return token_error(
                        "unsupported_grant_type",
                        "this OAuth proxy passes the identity provider's tokens through, and a \
                         service client has none",
                    );
                }
                let allowed = &service.client.scopes;
                let scopes = match get("scope") {
                    None => allowed.clone(),
                    Some(s) => {
                        let mut asked: Vec<String> = Vec::new();
                        for x in s.split(' ').filter(|x| !x.is_empty()) {
                            if !allowed.iter().any(|a| a == x) {
                                return token_error(
                                    "invalid_scope",
                                    &format!(
                                        "scope `{x}` is not given to this client; it may ask for: {}",
                                        if allowed.is_empty() {
                                            "none".to_owned()
                                        } else {
                                            allowed.join(" ")
                                        }
                                    ),
                                );
                            }
                            if !asked.contains(&x.to_owned()) {
                                asked.push(x.to_owned());
                            }
                        }
                        asked
                    }
                };
                tracing::info!(target: "mcp_runtime::auth", client = %client_id, "a service client got a token (client_credentials)");
                let user = User {
                    sub: client_id.clone(),
                    name: service.client.name.clone(),
                    email: None,
                    extra: serde_json::Map::new(),
                    grant: None,
                };
                (scopes, user, random_token(16))
            }
            Some("authorization_code") => {
                let Some(code) = get("code") else {
                    return token_error("invalid_request", "the request has no `code`");
                };
                let Some(verifier) = get("code_verifier") else {
                    return token_error(
                        "invalid_request",
                        "PKCE is required: send the code_verifier",
                    );
                };
                let code_key = code_key(&client_id, code);
                let grant: Code = match self.take(Space::Codes, &code_key).await {
                    Ok(Some(g)) => g,
                    Ok(None) => return self.code_replayed(&code_key).await,
                    Err(e) => return unavailable(&e),
                };
                if grant.resource != self.resource_url() {
                    return token_error(
                        "invalid_grant",
                        "the authorization code was issued by another server",
                    );
                }
                if grant.request.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the authorization code was issued to another client",
                    );
                }
                match get("redirect_uri") {
                    Some(r) if r != grant.request.redirect_uri => {
                        return token_error(
                            "invalid_grant",
                            "redirect_uri differs from the authorization request's",
                        );
                    }
                    None if grant.request.redirect_given => {
                        return token_error(
                            "invalid_request",
                            "redirect_uri is required: the authorization request named one",
                        );
                    }
                    _ => {}
                }
                if !(43..=128).contains(&verifier.len())
                    || !verifier
                        .bytes()
                        .all(|b| is_b64url(b) || b == b'.' || b == b'~')
                {
                    return token_error(
                        "invalid_grant",
                        "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
                    );
                }
                if URL_SAFE_NO_PAD.encode(sha256(verifier)) != grant.request.challenge {
                    return token_error(
                        "invalid_grant",
                        "code_verifier does not match the code_challenge (PKCE)",
                    );
                }
                let family = random_token(16);
                // Remembered, so that a second redemption revokes what this one issues.
                let spent = Spent {
                    family: family.clone(),
                    grant: grant.user.grant.clone(),
                };
                if let Err(e) = self
                    .save(Space::RedeemedCodes, &code_key, &spent, Some(REDEEMED_TTL))
                    .await
                {
                    return unavailable(&e);
                }
                // A bound per user: their oldest grant goes past it.
                if let Err(e) = self.track_grant(&grant.user.sub, spent).await {
                    return unavailable(&e);
                }
                (grant.request.scopes, grant.user, family)
            }
            Some("refresh_token") => {
                let Some(token) = get("refresh_token") else {
                    return token_error("invalid_request", "the request has no `refresh_token`");
                };
                let hash = hashed(token);
                let old: Refresh = match self.load(Space::RefreshTokens, &hash).await {
                    Ok(Some(old)) => old,
                    Ok(None) => return self.refresh_replayed(&hash).await,
                    Err(e) => return unavailable(&e),
                };
                match self.load::<bool>(Space::RevokedFamilies, &old.family).await {
                    Ok(None) => {}
                    Ok(Some(_)) => {
                        return token_error(
                            "invalid_grant",
                            "the refresh token was revoked (a token of its grant was used twice)",
                        );
                    }
                    Err(e) => return unavailable(&e),
                }
                if old.resource != self.resource_url() {
                    return token_error(
                        "invalid_grant",
                        "the refresh token was issued by another server",
                    );
                }
                if old.client_id != client_id {
                    return token_error(
                        "invalid_grant",
                        "the refresh token was issued to another client",
                    );
                }
                if let Some(bound) = &old.jkt
                    && dpop_jkt.as_deref() != Some(bound.as_str())
                {
                    return token_error(
                        "invalid_dpop_proof",
                        "the refresh token is bound to a DPoP key: refresh with a proof by that key",
                    );
                }
                let scopes = match get("scope") {
                    None => old.scopes.clone(),
                    Some(s) => {
                        let asked: Vec<String> = s
                            .split(' ')
                            .filter(|x| !x.is_empty())
                            .map(str::to_owned)
                            .collect();
                        if let Some(extra) = asked.iter().find(|x| !old.scopes.contains(x)) {
                            return token_error(
                                "invalid_scope",
                                &format!(
                                    "scope `{extra}` was not granted; ask for it with a new authorization request"
                                ),
                            );
                        }
                        asked
                    }
                };
                // Rotation, atomically across replicas: the first use to mark this refresh
                // token spent rotates it; every other use, concurrent or later, is a replay
                // and revokes the grant (RFC 9700 §4.14.2).
                let spent = Spent {
                    family: old.family.clone(),
                    grant: old.user.grant.clone(),
                };
                match self
                    .save_new(Space::SpentRefreshTokens, &hash, &spent, Some(REFRESH_TTL))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return self.refresh_replayed(&hash).await,
                    Err(e) => return unavailable(&e),
                }
                if let Err(e) = self.take::<Refresh>(Space::RefreshTokens, &hash).await {
                    return unavailable(&e);
                }
                if let Some(grant) = &old.user.grant {
                    self.refresh_upstream(grant).await;
                }
                (scopes, old.user, old.family)
            }
            Some(other) => {
                return token_error(
                    "unsupported_grant_type",
                    &format!(
                        "grant_type `{other}` is not supported; use authorization_code, refresh_token or (a service client) client_credentials"
                    ),
                );
            }
            None => return token_error("invalid_request", "the request has no grant_type"),
        };
        let resource = self.resource.get().cloned().unwrap_or_default();
        let now = unix_now();
        let ttl = self.access_ttl.as_secs();
        let mut claims = json!({
            "iss": issuer,
            "sub": user.sub,
            "aud": resource,
            "client_id": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": random_token(16),
            "scope": scopes.join(" "),
            // The grant: revoked, every token of it is refused.
            "sid": family,
        });
        if let Some(jkt) = &dpop_jkt {
            claims["cnf"] = json!({ "jkt": jkt });
        }
        if let Value::Object(map) = &mut claims {
            if let Some(name) = &user.name {
                map.insert("name".into(), name.clone().into());
            }
            if let Some(email) = &user.email {
                map.insert("email".into(), email.clone().into());
            }
            if self.dev().is_some() && service.is_none() {
                map.insert("preferred_username".into(), user.sub.clone().into());
            }
            for (k, v) in &user.extra {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if let Some(grant) = &user.grant {
                map.insert("gid".into(), grant.clone().into());
            }
        }
        let (access_token, expires_in) = if self.pass_through() {
            // Pass-through (mcp-use's way): the client gets the identity provider's own token.
            let grant = user.grant.as_deref().unwrap_or_default();
            match self.pass_through_token(grant).await {
                Ok(Some(found)) => found,
                Ok(None) => {
                    return token_error(
                        "invalid_grant",
                        "the identity provider's tokens for this sign-in are gone; sign in again",
                    );
                }
                Err(e) => return unavailable(&e),
            }
        } else {
            // A rotation made on another replica may have started signing with a new key.
            self.refresh_keys().await;
            let Some(access_token) = self.sign(&claims) else {
                return oauth_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "signing the access token failed",
                );
            };
            (access_token, ttl)
        };
        let mut out = json!({
            "access_token": access_token,
            "token_type": if dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": expires_in,
            "scope": scopes.join(" "),
        });
        let documented = self
            .documents
            .as_ref()
            .is_some_and(|_| super::cimd::Documents::names_document(&client_id));
        let wants_refresh = if documented {
            // A client described by its metadata document (cached since it authenticated) has
            // no record here to keep.
            matches!(self.find_client(&client_id).await, Ok(Some(c)) if c.refresh)
        } else {
            match self.load_client(&client_id).await {
                Ok(Some((client, used))) => {
                    // In use from now on: kept as long as its refresh tokens.
                    if let Err(e) = self.client_in_use(&client_id, &client, used).await {
                        return unavailable(&e);
                    }
                    client.refresh
                }
                Ok(None) => false,
                Err(e) => return unavailable(&e),
            }
        };
        if wants_refresh {
            let refresh = random_token(32);
            let record = Refresh {
                client_id: client_id.clone(),
                scopes: scopes.clone(),
                user,
                family,
                resource: resource.clone(),
                jkt: dpop_jkt.clone(),
            };
            if let Err(e) = self
                .save_bounded(
                    Space::RefreshTokens,
                    &hashed(&refresh),
                    &record,
                    Some(REFRESH_TTL),
                    MAX_REFRESH,
                )
                .await
            {
                return unavailable(&e);
            }
            out["refresh_token"] = Value::String(refresh);
        }
        no_store(HttpResponse::Ok())
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/json")
            .body(out.to_string())
    }

    /// Client authentication at the token endpoint (RFC 6749 §2.3): `client_secret_basic`,
    /// `client_secret_post`, or a public client naming its `client_id`.
    /// A form posted by a client to an endpoint of its own (`what`: token, revocation): the
    /// media type, the parameters (none twice), and the client authenticated.
    pub(super) async fn client_form(
        &self,
        req: &HttpRequest,
        body: &Bytes,
        what: &str,
    ) -> Result<(HashMap<String, String>, String), Box<HttpResponse>> {
        if !has_media_type(req, "application/x-www-form-urlencoded") {
            return Err(Box::new(token_error(
                "invalid_request",
                &format!("send the {what} request as application/x-www-form-urlencoded"),
            )));
        }
        let params =
            parse_params(body).map_err(|msg| Box::new(token_error("invalid_request", &msg)))?;
        let client_id = self.authenticate_client(req, &params).await?;
        Ok((params, client_id))
    }

    pub(super) async fn authenticate_client(
        &self,
        req: &HttpRequest,
        params: &HashMap<String, String>,
    ) -> Result<String, Box<HttpResponse>> {
        let has_basic = req.headers().contains_key(header::AUTHORIZATION);
        if params.contains_key("client_assertion") || params.contains_key("client_assertion_type") {
            // RFC 6749 §2.3: one authentication method per request.
            if has_basic || params.contains_key("client_secret") {
                return Err(Box::new(client_error(
                    false,
                    "the request carries a client assertion and a client secret: use one                      authentication method",
                )));
            }
            return self.authenticate_assertion(params).await;
        }
        let basic = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
            });
        let (id, secret, via_basic) = match basic {
            Some(b64) => {
                let decoded = STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                    .and_then(|s| {
                        s.split_once(':')
                            .map(|(a, b)| (pct_decode(a), pct_decode(b)))
                    });
                let Some((id, secret)) = decoded else {
                    return Err(Box::new(client_error(
                        true,
                        "the Basic credentials are malformed",
                    )));
                };
                (id, Some(secret), true)
            }
            None => match params.get("client_id") {
                Some(id) => (id.clone(), params.get("client_secret").cloned(), false),
                None => {
                    return Err(Box::new(client_error(
                        false,
                        "the request has no client_id (and no Basic credentials)",
                    )));
                }
            },
        };
        if let Some(service) = self.services.get(&id) {
            return match (&service.client.credential, secret) {
                (Credential::SecretHash(hash), Some(secret))
                    if aws_lc_rs::constant_time::verify_slices_are_equal(
                        hash.as_bytes(),
                        hashed(&secret).as_bytes(),
                    )
                    .is_ok() =>
                {
                    Ok(id)
                }
                (Credential::SecretHash(_), Some(_)) => Err(Box::new(client_error(
                    via_basic,
                    "the client secret is wrong",
                ))),
                (Credential::SecretHash(_), None) => Err(Box::new(client_error(
                    via_basic,
                    "this client authenticates with its secret (client_secret_basic or                      client_secret_post)",
                ))),
                (Credential::Jwks(_), _) => Err(Box::new(client_error(
                    via_basic,
                    "this client authenticates with a signed assertion (private_key_jwt): send                      client_assertion_type and client_assertion",
                ))),
            };
        }
        let client: Client = match self.find_client(&id).await {
            Ok(Some(c)) => c,
            Err(Ok(why)) => return Err(Box::new(client_error(via_basic, &why))),
            Ok(None) => {
                // 401 invalid_client: clients such as Claude register again on this answer.
                return Err(Box::new(client_error(
                    via_basic,
                    "unknown client_id: this authorization server does not know the client \
                     (its registration may have been lost); register again",
                )));
            }
            Err(Err(e)) => return Err(Box::new(unavailable(&e))),
        };
        match (&client.secret_hash, secret) {
            (None, None) => Ok(id),
            (Some(hash), Some(secret)) => {
                if aws_lc_rs::constant_time::verify_slices_are_equal(
                    hash.as_bytes(),
                    hashed(&secret).as_bytes(),
                )
                .is_ok()
                {
                    Ok(id)
                } else {
                    Err(Box::new(client_error(
                        via_basic,
                        "the client secret is wrong",
                    )))
                }
            }
            (Some(_), None) => Err(Box::new(client_error(
                via_basic,
                "this client registered with a secret: authenticate with it",
            ))),
            (None, Some(_)) => Err(Box::new(client_error(
                via_basic,
                "this is a public client (token_endpoint_auth_method none): send no secret",
            ))),
        }
    }

    /// `private_key_jwt` (RFC 7523 §2.2, §3): a JWT the client signed with a key the operator
    /// registered, naming this server, used once.
    async fn authenticate_assertion(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, Box<HttpResponse>> {
        let refuse = |msg: String| Box::new(client_error(false, &msg));
        if params.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION) {
            return Err(refuse(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            )));
        }
        let Some(assertion) = params.get("client_assertion") else {
            return Err(refuse("the request has no client_assertion".into()));
        };
        let Some(issuer) = self.issuer() else {
            return Err(Box::new(not_started()));
        };
        // The issuer names the client whose keys check the signature; nothing else in the
        // unverified assertion is believed.
        let unverified = crate::auth::jws::split(assertion)
            .and_then(|p| p.claims())
            .map_err(|e| refuse(format!("the client assertion is unusable: {e}")))?;
        let Some(id) = unverified.get("iss").and_then(Value::as_str) else {
            return Err(refuse(
                "the client assertion has no `iss` (it must be the client id)".into(),
            ));
        };
        if params.get("client_id").is_some_and(|c| c != id) {
            return Err(refuse(
                "client_id differs from the client assertion's `iss`".into(),
            ));
        }
        let Some(service) = self.services.get(id) else {
            return Err(refuse(format!(
                "no client `{}` signs assertions at this server; the operator registers such                  clients (MCP_OAUTH_CLIENTS)",
                id.chars()
                    .filter(|c| !c.is_control())
                    .take(64)
                    .collect::<String>()
            )));
        };
        let Some(keys) = &service.keys else {
            return Err(refuse(
                "this client authenticates with its secret, not with an assertion".into(),
            ));
        };
        let token_endpoint = format!("{issuer}{}", self.paths().token);
        let verifier = crate::auth::verifier::JwtVerifier::jwks(keys.clone())
            .algorithms(ASSERTION_ALGORITHMS)
            .issuer(id)
            .audience(issuer)
            .audience(format!("{issuer}/"))
            .audience(token_endpoint);
        let verified = crate::auth::TokenVerifier::verify(&verifier, assertion, issuer)
            .await
            .map_err(|e| refuse(format!("the client assertion is invalid: {e}")))?;
        let claims = verified.claims;
        if claims.get("sub").and_then(Value::as_str) != Some(id) {
            return Err(refuse(
                "the client assertion's `sub` must be the client id".into(),
            ));
        }
        let Some(jti) = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| (1..=256).contains(&j.len()))
        else {
            return Err(refuse(
                "the client assertion needs a `jti` (1 to 256 characters, unique per assertion)"
                    .into(),
            ));
        };
        let now = unix_now();
        let exp = verified.expires_at.unwrap_or(0);
        if exp > now + MAX_ASSERTION_LIFETIME {
            return Err(refuse(format!(
                "the client assertion is valid for too long: `exp` may be at most                  {MAX_ASSERTION_LIFETIME} seconds ahead"
            )));
        }
        // Remembered until it could no longer pass (its expiry plus the clock leeway).
        let ttl = std::time::Duration::from_secs(exp.saturating_sub(now) + 31);
        match self
            .save_new(Space::Assertions, &assertion_key(id, jti), &true, Some(ttl))
            .await
        {
            Ok(true) => Ok(id.to_owned()),
            Ok(false) => {
                tracing::warn!(target: "mcp_runtime::auth", client = %id, "a client assertion was presented twice");
                Err(refuse(
                    "the client assertion was already used (its `jti` was seen before): sign a                      new one for each request"
                        .into(),
                ))
            }
            Err(e) => Err(Box::new(unavailable(&e))),
        }
    }

    /// An unknown code. If it was redeemed before, someone holds a copy: what the first
    /// redemption issued is revoked (RFC 9700 §4.1.1 / RFC 6749 §4.1.2).
    async fn code_replayed(&self, code_key: &str) -> HttpResponse {
        match self.take::<Spent>(Space::RedeemedCodes, code_key).await {
            Ok(Some(spent)) => {
                if let Err(e) = self.revoke(&spent).await {
                    return unavailable(&e);
                }
                tracing::warn!(target: "mcp_runtime::auth", "an authorization code was redeemed twice; the tokens it issued are revoked");
                token_error(
                    "invalid_grant",
                    "the authorization code was already used; the tokens it issued are revoked",
                )
            }
            Ok(None) => token_error(
                "invalid_grant",
                "the authorization code is unknown, expired or already used",
            ),
            Err(e) => unavailable(&e),
        }
    }

    /// An unknown refresh token. If it was rotated before, someone holds a copy: its whole
    /// family is revoked (RFC 9700 §4.14.2).
    async fn refresh_replayed(&self, hash: &str) -> HttpResponse {
        match self.load::<Spent>(Space::SpentRefreshTokens, hash).await {
            Ok(Some(spent)) => {
                if let Err(e) = self.revoke(&spent).await {
                    return unavailable(&e);
                }
                tracing::warn!(target: "mcp_runtime::auth", "a refresh token was used twice; its family is revoked");
            }
            Ok(None) => {}
            Err(e) => return unavailable(&e),
        }
        token_error(
            "invalid_grant",
            "the refresh token is unknown, expired, revoked or already used",
        )
    }
}
