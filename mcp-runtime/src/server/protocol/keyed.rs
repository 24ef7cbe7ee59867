//! Maps keyed by strings the server chose, with a fast unkeyed hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by strings the server chose: tool names, session ids.
///
/// Flooding a hash map with colliding keys needs a say in which keys it holds; clients only
/// look keys up in these, so the keyed SipHash of a plain `HashMap` would buy nothing here,
/// and it costs more than the rest of the lookup.
pub(crate) type ServerKeyed<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// FxHash, over 8-byte words.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
