//! Secrets the operator configured — a Redis password, a TLS client key — as opposed to the values
//! [`super::Needles`] looks for in what a server echoes. A configured secret is searched for
//! whatever its length: it is exactly the operator's choice, so a 3-character Redis password is
//! still a password. Short values would garble a text if it were scanned once per needle (a
//! needle `e` would break every earlier `[redacted]`), so the text is rewritten in one pass,
//! longest match first, and a marker once written is never searched again.

use super::MARKER;
use crate::secret::Secret;

/// Configured secrets to replace by [`MARKER`] in every text that leaves the core.
///
/// ```
/// use genesys_tenants_core::redact::ConfiguredSecrets;
/// let mut c = ConfiguredSecrets::default();
/// c.push_url_component("p%40ss");
/// c.push("pw");
/// let mut s = "AUTH p@ss refused, p%40ss too; AUTH pw".to_string();
/// c.redact_string(&mut s);
/// assert_eq!(s, "AUTH [redacted] refused, [redacted] too; AUTH [redacted]");
/// ```
#[derive(Default)]
pub struct ConfiguredSecrets(Vec<Secret>);

impl std::fmt::Debug for ConfiguredSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfiguredSecrets({} values)", self.0.len())
    }
}

impl ConfiguredSecrets {
    /// Adds a value to look for, whatever its length (an empty one is ignored).
    pub fn push(&mut self, value: &str) {
        if !value.is_empty() && !self.0.iter().any(|s| s.expose() == value) {
            self.0.push(Secret::new(value));
        }
    }

    /// Adds a value as it appears in a URL (percent-encoded) and every form it is used in: decoded,
    /// and decoded as a query value (`+` is a space there).
    pub fn push_url_component(&mut self, raw: &str) {
        self.push(raw);
        let decoded = zeroize::Zeroizing::new(percent_decode(raw));
        self.push(&decoded);
        let form = zeroize::Zeroizing::new(percent_decode(&raw.replace('+', " ")));
        self.push(&form);
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `s` holds one of the values.
    pub fn found_in(&self, s: &str) -> bool {
        self.0.iter().any(|n| s.contains(n.expose()))
    }

    /// Replaces every occurrence of every value in `s`, in one left-to-right pass; a [`MARKER`]
    /// already there (another redaction's) is kept whole.
    pub fn redact_string(&self, s: &mut String) {
        if !self.found_in(s) {
            return;
        }
        let mut order: Vec<&str> = self.0.iter().map(Secret::expose).collect();
        order.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while !rest.is_empty() {
            if rest.starts_with(MARKER) {
                out.push_str(MARKER);
                rest = &rest[MARKER.len()..];
            } else if let Some(n) = order.iter().find(|n| rest.starts_with(**n)) {
                out.push_str(MARKER);
                rest = &rest[n.len()..];
            } else if let Some(c) = rest.chars().next() {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        zeroize::Zeroize::zeroize(s);
        *s = out;
    }
}

/// `%XX` sequences decoded (what the redis crate does to a URL's userinfo); invalid UTF-8 becomes U+FFFD.
fn percent_decode(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    let s = String::from_utf8_lossy(&out).into_owned();
    zeroize::Zeroize::zeroize(&mut out);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_encoded_and_decoded_forms_are_all_replaced_and_markers_stay_whole() {
        let mut c = ConfiguredSecrets::default();
        c.push_url_component("a%2Fb+c");
        c.push("d");
        c.push("");
        let mut s = "x a/b+c y a/b c z a%2Fb+c dd".to_string();
        c.redact_string(&mut s);
        assert_eq!(s, "x [redacted] y [redacted] z [redacted] [redacted][redacted]");
        let mut untouched = "nothing here".to_string();
        c.redact_string(&mut untouched);
        assert_eq!(untouched, "nothing here");
        assert_eq!(percent_decode("%E2%82%ACx%zz%4"), "€x%zz%4");
        assert_eq!(format!("{c:?}"), "ConfiguredSecrets(4 values)");
        let mut c = ConfiguredSecrets::default();
        c.push("e");
        let mut s = format!("{MARKER} e");
        c.redact_string(&mut s);
        assert_eq!(s, format!("{MARKER} {MARKER}"), "an earlier marker stays whole");
    }
}
