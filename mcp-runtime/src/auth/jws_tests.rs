use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256,
};
use serde_json::json;

use super::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn jwk(value: Value) -> Jwk {
    serde_json::from_value(value).expect("a JWK")
}

fn rsa() -> (RsaKeyPair, Jwk) {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let public = key.public_key();
    let jwk = jwk(json!({
        "kty": "RSA",
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero()),
    }));
    (key, jwk)
}

fn rsa_sign(key: &RsaKeyPair, pss: bool, message: &[u8]) -> Vec<u8> {
    let mut out = vec![0; key.public_modulus_len()];
    let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = if pss {
        &RSA_PSS_SHA256
    } else {
        &RSA_PKCS1_SHA256
    };
    key.sign(padding, &SystemRandom::new(), message, &mut out)
        .expect("signs");
    out
}

const NOW: u64 = 1_800_000_000;

fn rules<'a>(
    issuer: Option<&'a str>,
    other_issuers: &'a [String],
    audiences: &'a [String],
) -> ClaimRules<'a> {
    ClaimRules {
        issuer,
        other_issuers,
        audiences,
        leeway: 30,
        now: NOW,
    }
}

fn check(claims: Value, rules: &ClaimRules<'_>) -> Result<(), AuthError> {
    let Value::Object(map) = claims else {
        panic!("an object")
    };
    rules.check(&map)
}

#[test]
fn an_rsa_key_verifies_rs256_and_ps256_once_parsed_and_refuses_other_families() {
    let (key, jwk) = rsa();
    let (public, implied) = PublicKey::from_jwk(&jwk).expect("usable");
    assert_eq!(implied, None);
    let msg = b"header.payload";
    let sig = rsa_sign(&key, false, msg);
    assert_eq!(public.verify(Algorithm::RS256, msg, &sig), Ok(()));
    // The same bytes are not a PS256 signature, nor a signature of another message.
    assert_eq!(
        public.verify(Algorithm::PS256, msg, &sig),
        Err(invalid_signature())
    );
    assert_eq!(
        public.verify(Algorithm::RS256, b"header.payloaD", &sig),
        Err(invalid_signature())
    );
    let pss = rsa_sign(&key, true, msg);
    assert_eq!(public.verify(Algorithm::PS256, msg, &pss), Ok(()));
    assert_eq!(
        public.verify(Algorithm::ES256, msg, &sig),
        Err(wrong_key(Algorithm::ES256))
    );
    assert_eq!(
        public.verify(Algorithm::HS256, msg, &sig),
        Err(wrong_key(Algorithm::HS256))
    );
}

#[test]
fn ec_and_ed25519_keys_verify_only_their_own_algorithm() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("ec");
    let ec =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).expect("ec");
    let point = ec.public_key().as_ref();
    let (public, implied) = PublicKey::from_jwk(&jwk(json!({
        "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
    })))
    .expect("usable");
    assert_eq!(implied, Some(Algorithm::ES256));
    let sig = ec.sign(&rng, b"m").expect("signs");
    assert_eq!(public.verify(Algorithm::ES256, b"m", sig.as_ref()), Ok(()));
    assert_eq!(
        public.verify(Algorithm::ES384, b"m", sig.as_ref()),
        Err(wrong_key(Algorithm::ES384))
    );

    let ed = Ed25519KeyPair::generate().expect("ed25519");
    let (public, implied) = PublicKey::from_jwk(&jwk(json!({
        "kty": "OKP", "crv": "Ed25519", "x": b64(ed.public_key().as_ref()),
    })))
    .expect("usable");
    assert_eq!(implied, Some(Algorithm::EdDSA));
    let sig = ed.sign(b"m");
    assert_eq!(public.verify(Algorithm::EdDSA, b"m", sig.as_ref()), Ok(()));
    assert_eq!(
        public.verify(Algorithm::EdDSA, b"n", sig.as_ref()),
        Err(invalid_signature())
    );
}

#[test]
fn unusable_jwks_say_why() {
    let err = |v: Value| PublicKey::from_jwk(&jwk(v)).err().expect("refused");
    assert_eq!(
        err(json!({"kty": "RSA", "n": "!!", "e": "AQAB"})),
        "its `n` is not base64url"
    );
    assert!(
        err(json!({"kty": "RSA", "n": "", "e": "AQAB"})).starts_with("not a valid RSA public key"),
    );
    assert_eq!(
        err(json!({"kty": "EC", "crv": "P-256", "x": "AQAB", "y": "AQAB"})),
        "its coordinates are not 32 bytes each"
    );
    assert!(
        err(json!({"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])}))
            .starts_with("not a point on the curve"),
    );
    assert_eq!(
        err(json!({"kty": "oct", "k": "c2VjcmV0"})),
        "it is not a public signature key"
    );
}

#[test]
fn a_small_rsa_key_is_refused_at_verification() {
    // 1024-bit keys parse but are below the 2048-bit floor of every RSA algorithm here.
    let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let mut modulus = key.public_key().modulus().big_endian_without_leading_zero()[..128].to_vec();
    modulus[127] |= 1;
    let (public, _) = PublicKey::from_jwk(&jwk(json!({
        "kty": "RSA", "n": b64(&modulus), "e": "AQAB",
    })))
    .expect("parses");
    assert_eq!(
        public.verify(Algorithm::RS256, b"m", &[0; 128]),
        Err(invalid_signature())
    );
}

#[test]
fn secrets_verify_hmac_in_each_size_and_nothing_else() {
    let secret = HmacKeys::new(b"a shared secret of some length");
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA384, b"a shared secret of some length"),
        b"m",
    );
    assert_eq!(secret.verify(Algorithm::HS384, b"m", tag.as_ref()), Ok(()));
    assert_eq!(
        secret.verify(Algorithm::HS256, b"m", tag.as_ref()),
        Err(invalid_signature())
    );
    assert_eq!(
        secret.verify(Algorithm::RS256, b"m", tag.as_ref()),
        Err(wrong_key(Algorithm::RS256))
    );
}

#[test]
fn split_refuses_what_is_not_a_compact_jws() {
    for token in ["abc", "a.b", "a.b.c.d"] {
        assert_eq!(
            split(token).err(),
            Some(AuthError::invalid(
                "the token is not a JWT (three base64url parts separated by dots)"
            )),
            "{token}"
        );
    }
    let mut buf = [0u8; MAX_SIGNATURE];
    let bad = split("a.b.c*").expect("three parts");
    assert_eq!(
        bad.signature(&mut buf).err(),
        Some(AuthError::invalid("the token's signature is not base64url"))
    );
    let long = format!("a.b.{}", "A".repeat(1370));
    assert_eq!(
        split(&long).expect("three parts").signature(&mut buf).err(),
        Some(AuthError::invalid("the token's signature is invalid")),
        "longer than any key's signature"
    );
    // RSA-8192's 1 024 bytes (1 366 characters) are the longest signature accepted.
    let rsa8192 = format!("a.b.{}", b64(&[9u8; 1024]));
    assert_eq!(
        &*split(&rsa8192)
            .expect("three parts")
            .signature(&mut buf)
            .expect("decodes"),
        &[9u8; 1024][..]
    );
    let token = format!("h.{}.{}", b64(b"[1]"), b64(b"s"));
    let parts = split(&token).expect("splits");
    assert_eq!(parts.header, "h");
    assert_eq!(
        parts.message,
        token.rsplit_once('.').expect("dot").0.as_bytes()
    );
    assert_eq!(&*parts.signature(&mut buf).expect("decodes"), b"s");
    // Decoding into a buffer, or past its size into a vector, gives the same bytes.
    let long = b64(&[7u8; 3000]);
    let mut small = [0u8; 16];
    assert_eq!(
        &*decode(&long, &mut small).expect("decodes"),
        &[7u8; 3000][..]
    );
    let mut big = [0u8; 4096];
    assert!(
        matches!(decode(&long, &mut big), Ok(std::borrow::Cow::Borrowed(b)) if b == [7u8; 3000])
    );
    assert!(decode("a*", &mut big).is_err());
    assert!(decode("QQ=", &mut big).is_err(), "no padding");
    assert!(
        parts
            .claims()
            .is_err_and(|e| e.to_string().contains("the payload is not a JSON object"))
    );
}

#[test]
fn claim_rules_match_the_registered_claims() {
    let none: [String; 0] = [];
    let open = rules(None, &none, &none);
    assert_eq!(check(json!({"exp": NOW}), &open), Ok(()));
    assert_eq!(
        check(json!({}), &open),
        Err(AuthError::invalid("the token has no `exp` claim"))
    );
    assert_eq!(
        check(json!({"exp": "soon"}), &open),
        Err(AuthError::invalid(
            "the token's `exp` claim is not a number of seconds"
        ))
    );
    assert_eq!(
        check(json!({"exp": -1}), &open),
        Err(AuthError::invalid(
            "the token's `exp` claim is not a number of seconds"
        ))
    );
    // The leeway holds on both sides, and fractions are allowed.
    assert_eq!(check(json!({"exp": NOW - 30}), &open), Ok(()));
    assert_eq!(
        check(json!({"exp": (NOW - 10) as f64 + 0.5}), &open),
        Ok(())
    );
    assert_eq!(
        check(json!({"exp": NOW - 31}), &open),
        Err(AuthError::invalid("the token expired"))
    );
    assert_eq!(
        check(json!({"exp": NOW + 60, "nbf": NOW + 30}), &open),
        Ok(())
    );
    assert_eq!(
        check(json!({"exp": NOW + 60, "nbf": NOW + 31}), &open),
        Err(AuthError::invalid(
            "the token is not valid yet (`nbf` is in the future)"
        ))
    );
    assert_eq!(check(json!({"exp": 1e300}), &open), Ok(()));

    let others = ["a.example".to_owned()];
    let audiences = ["api".to_owned(), "mcp".to_owned()];
    let strict = rules(Some("https://a.example"), &others, &audiences);
    let ok = json!({"exp": NOW, "iss": "a.example", "aud": ["other", "mcp"]});
    assert_eq!(check(ok, &strict), Ok(()));
    assert_eq!(
        check(json!({"exp": NOW, "aud": "api"}), &strict),
        Err(AuthError::invalid("the token has no `iss` claim"))
    );
    for iss in [
        json!("https://b.example"),
        json!(["https://a.example"]),
        json!(7),
    ] {
        assert_eq!(
            check(json!({"exp": NOW, "iss": iss, "aud": "api"}), &strict),
            Err(AuthError::invalid(
                "the token was issued by another issuer; expected `iss` https://a.example"
            ))
        );
    }
    assert_eq!(
        check(json!({"exp": NOW, "iss": "a.example"}), &strict),
        Err(AuthError::invalid("the token has no `aud` claim"))
    );
    for aud in [
        json!("other"),
        json!([]),
        json!([1, "x"]),
        json!({"aud": "api"}),
    ] {
        assert_eq!(
            check(json!({"exp": NOW, "iss": "a.example", "aud": aud}), &strict),
            Err(AuthError::invalid(
                "the token is not for this server: `aud` must be api or mcp"
            ))
        );
    }
}

#[test]
fn a_fractional_exp_still_bounds_the_verified_token() {
    // The verified-token cache keeps an entry until `expires_at`: a fractional `exp` (which the
    // claim rules accept) must set it too, or a cached token would outlive its expiry.
    let Value::Object(claims) = json!({"exp": 1_800_000_000.75, "sub": "u"}) else {
        panic!("an object")
    };
    let verified = crate::auth::Verified::from_claims(claims);
    assert_eq!(verified.expires_at, Some(1_800_000_000));
}
