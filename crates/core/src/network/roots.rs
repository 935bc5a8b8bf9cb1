//! Extra trusted CA certificates: the `caCerts` option (PEM text) and the file `NODE_EXTRA_CA_CERTS`
//! names, as Node reads it. Both are *added* to the system's roots (a TLS-inspecting proxy's CA, a
//! private config service's CA), never used instead of them: the Genesys hosts keep their public
//! certificates.

use super::Environment;
use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// The environment variable Node reads extra CA certificates from.
pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";

/// Largest `NODE_EXTRA_CA_CERTS` file read (a bundle of every public CA is about 200 KiB).
pub const MAX_CA_FILE: u64 = 16 * 1024 * 1024;

/// The certificates of a PEM text, each checked to be DER a TLS library can read; `option` names
/// the source in errors. A text without any `CERTIFICATE` block is refused: trusting nothing new
/// where the operator meant to trust a CA would only move the failure to the first call.
///
/// ```
/// use genesys_tenants_core::network::pem_certificates;
/// assert!(pem_certificates("not pem", "caCerts").is_err());
/// ```
pub fn pem_certificates(pem: &str, option: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |reason: &str| Error::InvalidOptions { option: option.into(), reason: reason.into() };
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = item.map_err(|_| bad("holds a PEM block that cannot be read"))?;
        // Read it as a trust anchor now, so a damaged certificate is an options error rather than
        // a failed handshake later.
        rustls::RootCertStore::empty().add(cert.clone()).map_err(|_| bad("holds a certificate that cannot be read as a CA"))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate (-----BEGIN CERTIFICATE-----); pass the text, e.g. fs.readFileSync(path, 'utf8')"));
    }
    Ok(certs)
}

/// The extra roots: `ca_certs`, then the file `NODE_EXTRA_CA_CERTS` names. A file that cannot be
/// read, is larger than [`MAX_CA_FILE`] or holds no certificate is `INVALID_OPTIONS` naming the
/// variable — where Node prints a warning and carries on, the orchestrator refuses to start, since
/// the CA it would miss is the one the proxy or the config service needs.
pub fn extra_roots(ca_certs: Option<&str>, env: &Environment) -> Result<Vec<reqwest::Certificate>> {
    extra_root_ders(ca_certs, env)?
        .iter()
        .map(|d| reqwest::Certificate::from_der(d).map_err(|e| Error::InvalidOptions { option: "caCerts".into(), reason: e.to_string() }))
        .collect()
}

/// [`extra_roots`] as DER, for the TLS clients that are not reqwest (the notification WebSocket).
pub fn extra_root_ders(ca_certs: Option<&str>, env: &Environment) -> Result<Vec<CertificateDer<'static>>> {
    let mut ders = match ca_certs {
        Some(pem) => pem_certificates(pem, "caCerts")?,
        None => Vec::new(),
    };
    if let Some(path) = env.var(NODE_EXTRA_CA_CERTS) {
        let bad = |reason: String| Error::InvalidOptions { option: NODE_EXTRA_CA_CERTS.into(), reason };
        let meta = std::fs::metadata(&path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        if meta.len() > MAX_CA_FILE {
            return Err(bad(format!("{path} is larger than {} MiB", MAX_CA_FILE / (1024 * 1024))));
        }
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_CA_FILE).read_to_string(&mut text))
            .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        ders.extend(pem_certificates(&text, NODE_EXTRA_CA_CERTS).map_err(|e| match e {
            Error::InvalidOptions { reason, .. } => bad(format!("{path}: {reason}")),
            other => other,
        })?);
    }
    Ok(ders)
}
