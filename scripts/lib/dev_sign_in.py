#!/usr/bin/env python3
"""Signs in to an embedded development authorization server that auto-approves
(MCP_USE_OAUTH_DEV_AUTO_APPROVE=true): registration, authorization with PKCE, the code
exchange. Prints the token answer as JSON. With `--revoke`, it then replays the refresh
token, so that the grant is revoked (the server's revoked set is no longer empty).

    scripts/lib/dev_sign_in.py http://127.0.0.1:3000 [--revoke]
"""
import base64
import hashlib
import http.client
import json
import secrets
import sys
import urllib.parse

REDIRECT = "http://127.0.0.1:9/cb"


def request(base, method, path, body=None, headers=None):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def main():
    base = sys.argv[1].rstrip("/")
    status, _, data = request(
        base, "POST", "/oauth/register",
        json.dumps({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"]}),
        {"content-type": "application/json"})
    assert status == 201, (status, data)
    client_id = json.loads(data)["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "openid"})
    status, headers, data = request(base, "GET", f"/oauth/authorize?{query}")
    assert status == 302, (status, data)
    location = {k.lower(): v for k, v in headers.items()}["location"]
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    form = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "code_verifier": verifier, "redirect_uri": REDIRECT})
    form_headers = {"content-type": "application/x-www-form-urlencoded"}
    status, _, data = request(base, "POST", "/oauth/token", form, form_headers)
    assert status == 200, (status, data)
    tokens = json.loads(data)
    if "--revoke" in sys.argv:
        refresh = urllib.parse.urlencode({
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_id": client_id})
        first, _, _ = request(base, "POST", "/oauth/token", refresh, form_headers)
        again, _, _ = request(base, "POST", "/oauth/token", refresh, form_headers)
        assert (first, again) == (200, 400), (first, again)
    print(json.dumps(tokens))


if __name__ == "__main__":
    main()
