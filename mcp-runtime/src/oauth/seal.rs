//! Sealing what the store keeps: AES-256-GCM under a key every replica shares
//! (`MCP_STORE_ENCRYPTION_KEY`), a random nonce per value, and a label bound as associated data,
//! so that a value sealed for one purpose does not open as another.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

/// Seals and opens values with one key.
pub(crate) struct Sealer {
    cipher: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    pub(crate) fn new(key: &[u8; 32]) -> Result<Self, String> {
        let cipher = UnboundKey::new(&AES_256_GCM, key)
            .map(LessSafeKey::new)
            .map_err(|_| "the encryption key is rejected".to_owned())?;
        Ok(Sealer {
            cipher,
            rng: SystemRandom::new(),
        })
    }

    /// `nonce || ciphertext || tag`; `None` only without randomness.
    pub(crate) fn seal(&self, label: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = plain.to_vec();
        self.cipher
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(label),
                &mut out,
            )
            .ok()?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        Some(sealed)
    }

    /// The plain value; `None` if it was sealed under another key or label, or altered.
    pub(crate) fn open(&self, label: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, rest) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .cipher
            .open_in_place(nonce, Aad::from(label), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_label() {
        let a = Sealer::new(&[1; 32]).expect("key");
        let b = Sealer::new(&[2; 32]).expect("key");
        let sealed = a.seal(b"keys", b"secret").expect("sealed");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(a.open(b"keys", &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(b.open(b"keys", &sealed), None, "another key");
        assert_eq!(a.open(b"other", &sealed), None, "another label");
        let mut altered = sealed.clone();
        altered[NONCE_LEN] ^= 1;
        assert_eq!(a.open(b"keys", &altered), None, "altered");
        assert_eq!(a.open(b"keys", &sealed[..5]), None, "too short");
        assert_ne!(
            a.seal(b"keys", b"secret"),
            Some(sealed),
            "a fresh nonce each time"
        );
    }
}
