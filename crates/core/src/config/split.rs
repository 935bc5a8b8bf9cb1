//! Splitting a config document — a JSON array — into its entries without parsing them, so that an
//! entry the JSON parser refuses (a lone surrogate `"\ud800"`, a number such as `1e400`, nesting past
//! the parser's depth limit, invalid UTF-8) spoils only that entry. Only a broken *structure*
//! (unbalanced brackets, an unterminated string, text after the array) refuses the whole document:
//! then entry boundaries are unknown, and guessing them could drop or merge tenants.
//!
//! The scan is iterative (a bracket stack, no recursion), so no input can exhaust the stack.

/// The byte ranges of the elements of the top-level array in `body`.
///
/// ```
/// use genesys_tenants_core::config::split::split_array;
/// let parts = split_array(br#" [ {"a": [1, "]"]}, 7 , "x" ] "#).unwrap();
/// assert_eq!(parts, vec![&br#"{"a": [1, "]"]}"#[..], b"7", br#""x""#]);
/// assert!(split_array(b"[1, {]").is_err());
/// ```
pub fn split_array(body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut s = Scanner { b: body, i: 0 };
    s.skip_ws();
    if s.peek() != Some(b'[') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => "the config must be a JSON array of tenant entries".into(),
            Err(e) => format!("the config is not valid JSON: {e}"),
        });
    }
    s.i += 1;
    let mut out = Vec::new();
    s.skip_ws();
    if s.peek() == Some(b']') {
        s.i += 1;
    } else {
        loop {
            s.skip_ws();
            let start = s.i;
            s.skip_value()?;
            out.push(&body[start..s.i]);
            s.skip_ws();
            match s.next() {
                Some(b',') => continue,
                Some(b']') => break,
                Some(c) => return Err(s.error(&format!("expected ',' or ']' after entry {}, found {}", out.len() - 1, shown(c)))),
                None => return Err(s.error("the array is not closed")),
            }
        }
    }
    s.skip_ws();
    if s.i < body.len() {
        return Err(s.error("unexpected text after the array"));
    }
    Ok(out)
}

/// The members of a JSON object's text, as `(key bytes with quotes, value bytes)`; `None` when
/// `entry` is not an object whose structure scans.
pub fn object_members(entry: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut s = Scanner { b: entry, i: 0 };
    s.skip_ws();
    if s.next() != Some(b'{') {
        return None;
    }
    let mut out = Vec::new();
    s.skip_ws();
    if s.peek() == Some(b'}') {
        return Some(out);
    }
    loop {
        s.skip_ws();
        let k = s.i;
        if s.peek() != Some(b'"') {
            return None;
        }
        s.skip_string().ok()?;
        let key = &entry[k..s.i];
        s.skip_ws();
        if s.next() != Some(b':') {
            return None;
        }
        s.skip_ws();
        let v = s.i;
        s.skip_value().ok()?;
        out.push((key, &entry[v..s.i]));
        s.skip_ws();
        match s.next() {
            Some(b',') => continue,
            Some(b'}') => return Some(out),
            _ => return None,
        }
    }
}

fn shown(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}'", c as char)
    } else {
        format!("byte 0x{c:02x}")
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        if c.is_some() {
            self.i += 1;
        }
        c
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn error(&self, what: &str) -> String {
        format!("the config is not valid JSON: {what} (at byte {})", self.i)
    }

    /// Past a string starting at `"`; escapes are skipped, not checked (the entry's parse does).
    fn skip_string(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            match self.next() {
                Some(b'"') => return Ok(()),
                Some(b'\\') => {
                    if self.next().is_none() {
                        return Err(self.error("a string is not closed"));
                    }
                }
                Some(_) => {}
                None => return Err(self.error("a string is not closed")),
            }
        }
    }

    /// Past one value: a string, a bracketed structure (balanced, brackets matching), or a scalar
    /// (the run of bytes up to a delimiter).
    fn skip_value(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Err(self.error("a value is missing")),
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => {
                let mut stack: Vec<u8> = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err(self.error("a bracket is not closed")),
                        Some(b'"') => {
                            self.skip_string()?;
                            continue;
                        }
                        Some(open @ (b'{' | b'[')) => stack.push(if open == b'{' { b'}' } else { b']' }),
                        Some(close @ (b'}' | b']')) => {
                            if stack.pop() != Some(close) {
                                return Err(self.error(&format!("unbalanced {}", shown(close))));
                            }
                            if stack.is_empty() {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        Some(_) => {}
                    }
                    self.i += 1;
                }
            }
            Some(b'}' | b']' | b',' | b':') => Err(self.error("a value is missing")),
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'[' | b'{') {
                        break;
                    }
                    self.i += 1;
                }
                debug_assert!(self.i > start);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_what_serde_would_refuse_entry_by_entry() {
        let doc =
            "[{\"a\":\"\\ud800\"}, {\"n\": 1e400}, {\"deep\": ".to_string() + &"[".repeat(300) + &"]".repeat(300) + "}, {\"ok\": true}]";
        let parts = split_array(doc.as_bytes()).unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[3], br#"{"ok": true}"#);
        let mut bad_utf8 = b"[{\"tenantId\":\"t\",\"x\":\"".to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0xfe]);
        bad_utf8.extend_from_slice(b"\"},{}]");
        assert_eq!(split_array(&bad_utf8).unwrap().len(), 2);
    }

    #[test]
    fn broken_structure_refuses_the_document() {
        for doc in ["", "{}", "[", "[1,", "[1 2]", "[{]", "[[}]", "[\"abc]", "[1]x", "[,1]", "[1,]", "[{\"a\" 1}]x", "]"] {
            assert!(split_array(doc.as_bytes()).is_err(), "{doc:?}");
        }
        assert_eq!(split_array(b" [ ] ").unwrap().len(), 0);
        // Deep nesting costs a heap stack, not the thread's.
        let deep = "[".repeat(200_000) + &"]".repeat(200_000);
        assert_eq!(split_array(deep.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn members_of_an_object() {
        let m = object_members(br#" {"tenantId": "t", "n": 1e400, "s": "\ud800", "o": {"x": [1]}} "#).unwrap();
        let keys: Vec<&[u8]> = m.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![&b"\"tenantId\""[..], b"\"n\"", b"\"s\"", b"\"o\""]);
        assert_eq!(m[1].1, b"1e400");
        assert!(object_members(b"[1]").is_none());
        assert!(object_members(br#"{"a" 1}"#).is_none());
        assert_eq!(object_members(b"{}").unwrap().len(), 0);
    }
}
