//! Encryption at rest (snapshot files, Redis values): AES-256-GCM with a random 96-bit nonce.
//! Sealed form: `v1.<kid>.<nonce b64url>.<ciphertext b64url>`, where `kid` identifies the key
//! (so a value sealed under another key is recognised, not mis-decrypted) and the caller's
//! associated data binds the value to its place (tenant, client, purpose).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A 256-bit key, parsed from 64 hex characters or base64 of 32 bytes.
#[derive(Clone)]
pub struct EncryptionKey {
    key: Zeroizing<[u8; 32]>,
    kid: String,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptionKey(kid={}, [redacted])", self.kid)
    }
}

impl EncryptionKey {
    /// Parses a key given as 64 hex characters or as base64 (standard or URL-safe) of 32 bytes.
    ///
    /// ```
    /// use genesys_tenants_core::crypto::EncryptionKey;
    /// let k = EncryptionKey::parse(&"ab".repeat(32)).unwrap();
    /// let sealed = k.seal(b"secret", b"ctx");
    /// assert_eq!(&k.open(&sealed, b"ctx").unwrap()[..], b"secret");
    /// assert!(k.open(&sealed, b"other").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<EncryptionKey, String> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|e| e.to_string())?
        } else {
            STANDARD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
                .map_err(|_| "must be 64 hex characters or base64 of 32 random bytes".to_string())?
        };
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| format!("must be 32 bytes (256 bits); got {}", bytes.len()))?;
        let kid = hex::encode(&Sha256::digest([b"genesys-tenants kid".as_slice(), &key].concat())[..4]);
        Ok(EncryptionKey { key: Zeroizing::new(key), kid })
    }

    /// The key id embedded in sealed values.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Encrypts `plain`, binding it to `aad`.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.key[..]).expect("32-byte key");
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from_slice(&nonce_bytes);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = cipher.encrypt(nonce, Payload { msg: plain, aad }).unwrap_or_default();
        format!("v1.{}.{}.{}", self.kid, URL_SAFE_NO_PAD.encode(nonce_bytes), URL_SAFE_NO_PAD.encode(ct))
    }

    /// Decrypts a value sealed by [`EncryptionKey::seal`] with the same key and `aad`.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut parts = sealed.splitn(4, '.');
        let (Some("v1"), Some(kid), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err("not a sealed value".into());
        };
        if kid != self.kid {
            return Err(format!("sealed under another key (kid {kid}, ours {})", self.kid));
        }
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| "bad nonce".to_string())?;
        if nonce.len() != 12 {
            return Err("bad nonce".into());
        }
        let ct = URL_SAFE_NO_PAD.decode(ct).map_err(|_| "bad ciphertext".to_string())?;
        let cipher = Aes256Gcm::new_from_slice(&self.key[..]).map_err(|e| e.to_string())?;
        cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| "decryption failed (wrong key, tampered value or wrong context)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_in_both_encodings() {
        let hex_key = EncryptionKey::parse(&"0f".repeat(32)).unwrap();
        let b64 = STANDARD.encode([0x0f_u8; 32]);
        assert_eq!(EncryptionKey::parse(&b64).unwrap().kid(), hex_key.kid());
        assert!(EncryptionKey::parse("short").is_err());
        assert!(EncryptionKey::parse(&STANDARD.encode([1_u8; 16])).is_err());
        assert!(!format!("{hex_key:?}").contains("0f0f"));
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let a = EncryptionKey::parse(&"01".repeat(32)).unwrap();
        let b = EncryptionKey::parse(&"02".repeat(32)).unwrap();
        let s = a.seal(b"token", b"t1");
        assert!(b.open(&s, b"t1").unwrap_err().contains("another key"));
        let mut tampered = s.clone();
        tampered.pop();
        tampered.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert!(a.open(&tampered, b"t1").is_err());
        assert!(a.open("garbage", b"").is_err());
        assert!(a.open("v1.x.y", b"").is_err());
        assert_ne!(a.seal(b"token", b"t1"), s, "nonces are random");
    }
}
