//! PKCE (RFC 7636, S256) and the random values of a sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::client::ClientError;

/// `n` random bytes, base64url without padding.
pub(crate) fn random(n: usize) -> Result<String, ClientError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| ClientError::auth(format!("no randomness for the sign-in ({e})")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A code verifier (43 characters from 32 random bytes) and its S256 challenge.
pub(crate) fn pair() -> Result<(String, String), ClientError> {
    let verifier = random(32)?;
    let challenge = challenge_of(&verifier);
    Ok((verifier, challenge))
}

/// The S256 challenge of a verifier.
pub(crate) fn challenge_of(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            super::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (v, c) = super::pair().expect("random");
        assert_eq!(v.len(), 43);
        assert_eq!(super::challenge_of(&v), c);
    }
}
