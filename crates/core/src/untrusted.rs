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

/// True for the characters no printed value may carry raw: C0 and C1 controls, DEL, the Unicode
/// line and paragraph separators, and the bidi marks, embeddings, overrides and isolates. Raw, they
/// could drive a terminal (ESC sequences, C1 CSI), reorder what is shown, or make one value read as
/// several lines of a log.
///
/// ```
/// use genesys_tenants_core::untrusted::is_unsafe;
/// assert!(is_unsafe('\u{1b}') && is_unsafe('\u{9b}') && is_unsafe('\u{202e}'));
/// assert!(!is_unsafe('é') && !is_unsafe(' '));
/// ```
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
}

/// `text` as one line of plain text, whole: every [`is_unsafe`] character written as a visible
/// escape (`\n`, `\x1b`, `\x9b`, `\u202e`). The CLI prints every outside value through this (the
/// binding's `printable`), and [`message`] is its bounded form: one rule for both.
///
/// ```
/// use genesys_tenants_core::untrusted::printable;
/// assert_eq!(printable("a\u{1b}[2J\nb\u{9b}\u{202e}"), "a\\x1b[2J\\nb\\x9b\\u202e");
/// ```
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c)
        } else {
            out.push(c)
        }
    }
    out
}

/// JSON text (made by a JSON serializer) with every [`is_unsafe`] character written as the JSON
/// escape `\uXXXX`: the same value, and no raw control character in the printed text. Outside
/// strings a serializer writes only its own whitespace, which is left as it is.
///
/// ```
/// use genesys_tenants_core::untrusted::printable_json;
/// assert_eq!(printable_json("{\n  \"a\": \"x\u{202e}\u{85}\"\n}"), "{\n  \"a\": \"x\\u202e\\u0085\"\n}");
/// ```
pub fn printable_json(json: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t') {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c)
        }
    }
    out
}

/// A server's free text (`message` of an error body) as an error may print it: at most
/// [`MAX_MESSAGE_CHARS`] characters, [`printable`] (every control, line-break and bidi-override
/// character written as a visible escape), so a message is the one line it looks like in a log.
/// The body itself keeps the server's bytes, as data.
///
/// ```
/// use genesys_tenants_core::untrusted::message;
/// assert_eq!(message("bad\u{1b}[31m\nrequest\u{202e}"), "bad\\x1b[31m\\nrequest\\u202e");
/// ```
pub fn message(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => printable(&text[..at]) + "…",
        None => printable(text),
    }
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
        assert_eq!(message("a\r\nb\tc\u{7f}\u{85}\u{2028}"), "a\\r\\nb\\tc\\x7f\\x85\\u2028");
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
