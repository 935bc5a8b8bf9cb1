//! The last-known-good copy of the config on disk, sealed with the encryption key so secrets are
//! never at rest in the clear. Written atomically (temp file + rename) with mode 0600.

use crate::crypto::EncryptionKey;
use std::path::{Path, PathBuf};

const AAD: &[u8] = b"genesys-tenants config snapshot v1";

/// A snapshot file and the key that seals it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    path: PathBuf,
    key: EncryptionKey,
}

impl Snapshot {
    /// A snapshot at `path`.
    pub fn new(path: PathBuf, key: EncryptionKey) -> Self {
        Snapshot { path, key }
    }

    /// The snapshot the options ask for (`snapshotPath`, sealed with `encryptionKey`), if any.
    pub fn from_options(options: &crate::options::Options) -> crate::error::Result<Option<Self>> {
        let (Some(path), Some(key)) = (&options.snapshot_path, &options.encryption_key) else { return Ok(None) };
        let key = EncryptionKey::parse(key.expose())
            .map_err(|reason| crate::error::Error::InvalidOptions { option: "encryptionKey".into(), reason })?;
        Ok(Some(Snapshot::new(path.clone(), key)))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seals and writes the raw config document.
    pub async fn save(&self, document: &[u8]) -> Result<(), String> {
        let sealed = self.key.seal(document, AAD);
        let tmp = self.path.with_extension(format!("tmp-{}", std::process::id()));
        write_private(&tmp, sealed.as_bytes()).await.map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        tokio::fs::rename(&tmp, &self.path).await.map_err(|e| format!("cannot replace {}: {e}", self.path.display()))
    }

    /// Reads and opens the snapshot; the raw config document.
    pub async fn load(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
        let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| format!("cannot read snapshot {}: {e}", self.path.display()))?;
        self.key.open(text.trim(), AAD)
    }
}

async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).await?;
    f.write_all(bytes).await?;
    f.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_no_plaintext() {
        let dir = std::env::temp_dir().join(format!("gt-snap-{}", rand::random::<u32>()));
        tokio::fs::create_dir_all(&dir).await.unwrap();
        let key = EncryptionKey::parse(&"11".repeat(32)).unwrap();
        let snap = Snapshot::new(dir.join("config.snapshot"), key);
        let doc = br#"[{"tenantId":"a","clientId":"c","clientSecret":"TOP-SECRET"}]"#;
        snap.save(doc).await.unwrap();
        let on_disk = tokio::fs::read_to_string(snap.path()).await.unwrap();
        assert!(!on_disk.contains("TOP-SECRET"));
        assert_eq!(&snap.load().await.unwrap()[..], doc);
        let other = Snapshot::new(snap.path().to_path_buf(), EncryptionKey::parse(&"22".repeat(32)).unwrap());
        assert!(other.load().await.is_err());
        let _ = tokio::fs::remove_dir_all(dir).await;
    }
}
