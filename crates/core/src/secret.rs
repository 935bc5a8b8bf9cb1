//! A string that must not leak: redacted in `Debug`/`Display`, zeroized on drop.

use std::fmt;
use zeroize::Zeroizing;

/// A client secret, an access token or a key. Its `Debug` prints `[redacted]`; the memory is
/// wiped when it drops. Copies made inside HTTP or JSON buffers cannot be wiped: keep secrets
/// out of anything that is logged or returned.
///
/// ```
/// use genesys_tenants_core::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "[redacted]");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("s3cr3t-value");
        assert!(!format!("{s:?} {s} {:?}", Some(&s)).contains("s3cr3t"));
    }
}
