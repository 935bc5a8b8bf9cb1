//! Deterministic and random identifiers.

use sha2::{Digest, Sha256};

/// A UUID-shaped id derived from `parts` (stable across runs, so tests can assert exact items).
pub fn stable_uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    uuid_from(&h.finalize()[..16])
}

/// A random UUID v4.
pub fn random_uuid() -> String {
    uuid_from(&rand::random::<[u8; 16]>())
}

fn uuid_from(b: &[u8]) -> String {
    let mut b: [u8; 16] = b.try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A random opaque token of `n` bytes, URL-safe base64.
pub fn random_token(n: usize) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
