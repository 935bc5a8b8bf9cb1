//! Values a server sends that the core prints: each is checked for the shape Genesys gives it
//! before it reaches a message, an event or a log, so a hostile or broken server cannot make us
//! print what it chose (a token it echoed, control characters, a megabyte of text).
//!
//! Redaction ([`crate::redact`]) removes the secrets we know; these checks refuse what we cannot
//! know to be harmless. Both apply: a value that passes a shape check is still redacted.

/// The longest error `code` printed. Genesys's codes are short dotted words
/// (`bad.credentials`, `missing.division.permission`).
pub const MAX_CODE_LEN: usize = 64;

/// `code` when it has the shape of a Genesys error code: lower-case ASCII words joined by `.`,
/// `_` or `-`, at most [`MAX_CODE_LEN`] characters. A token (mixed case), a sentence or a control
/// character does not pass.
///
/// ```
/// use genesys_tenants_core::untrusted::error_code;
/// assert_eq!(error_code("missing.division.permission"), Some("missing.division.permission"));
/// assert_eq!(error_code("WjV7Y5kOq2BPSf"), None);
/// assert_eq!(error_code("bad\ncode"), None);
/// ```
pub fn error_code(code: &str) -> Option<&str> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    ok.then_some(code)
}

/// `id` when it is a UUID (`8-4-4-4-12` hex digits), the shape of every Genesys object id, an
/// organization's included.
///
/// ```
/// use genesys_tenants_core::untrusted::uuid;
/// assert!(uuid("6f1c2b1e-0e59-4a7e-9b6e-2f3a4b5c6d7e").is_some());
/// assert!(uuid("G8qzY5kOq2BPSfWjV7Y5kOq2BPSfWjV7Y5kO").is_none());
/// ```
pub fn uuid(id: &str) -> Option<&str> {
    let groups: Vec<&str> = id.split('-').collect();
    let ok =
        groups.len() == 5 && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then_some(id)
}

/// The longest server message an error's `message` quotes.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// A server's free text (`message` of an error body) as an error may print it: at most
/// [`MAX_MESSAGE_CHARS`] characters, with every control, line-break and bidi-override character
/// written as a visible escape (`\x1b`, `\n`, `\u202e`, as the CLI writes them), so a message is the one line it looks
/// like in a log. The body itself keeps the server's bytes, as data.
///
/// ```
/// use genesys_tenants_core::untrusted::message;
/// assert_eq!(message("bad\u{1b}[31m\nrequest\u{202e}"), "bad\\x1b[31m\\nrequest\\u202e");
/// ```
pub fn message(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE_CHARS));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_MESSAGE_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dotted_lower_case_words() {
        for good in
            ["bad.credentials", "not.authorized", "missing.any.permissions", "app.not.authorized.for.scope", "too_many_requests", "c1"]
        {
            assert_eq!(error_code(good), Some(good));
        }
        let long = "a".repeat(MAX_CODE_LEN + 1);
        for bad in ["", "Bearer", "WjV7Y5kO-BPSf", "a b", "a\u{1b}[31m", "é", "1abc", ".x", long.as_str()] {
            assert_eq!(error_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(message("plain text: ok"), "plain text: ok");
        assert_eq!(message("a\r\nb\tc\u{7f}\u{85}\u{2028}"), "a\\r\\nb\\tc\\x7f\\u0085\\u2028");
        let long = "x".repeat(MAX_MESSAGE_CHARS + 10);
        assert_eq!(message(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(!message("\u{1b}]0;title\u{7}").chars().any(char::is_control));
    }

    #[test]
    fn ids_are_uuids() {
        assert!(uuid("00000000-0000-0000-0000-000000000000").is_some());
        assert!(uuid("ABCDEF01-2345-6789-abcd-ef0123456789").is_some());
        for bad in
            ["", "0000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000g", "00000000-0000-0000-0000-000000000000-0"]
        {
            assert!(uuid(bad).is_none(), "{bad:?}");
        }
    }
}
