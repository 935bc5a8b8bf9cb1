//! Page arithmetic and validation of paging parameters, shared by every listing.

use crate::error_body::ApiError;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReq {
    /// Items per page.
    pub size: usize,
    /// 1-based page number.
    pub number: usize,
}

/// Parses `pageSize` / `pageNumber` text values (query strings) with Genesys's errors.
pub fn parse(size: Option<&str>, number: Option<&str>, default_size: usize, max_size: usize) -> Result<PageReq, ApiError> {
    let size = match size {
        None => default_size,
        Some(s) => s.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::bad_request("invalid.value", &format!("Value [{s}] is not valid for field type [Integer] (pageSize)"))
        })?,
    };
    if size > max_size {
        return Err(ApiError::bad_request("bad.request", &format!("pageSize must be at most {max_size}")));
    }
    let number = match number {
        None => 1,
        Some(s) => s.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::bad_request("invalid.value", &format!("Value [{s}] is not valid for field type [Integer] (pageNumber)"))
        })?,
    };
    Ok(PageReq { size, number })
}

/// Same, from JSON body values.
pub fn parse_json(
    size: Option<&serde_json::Value>,
    number: Option<&serde_json::Value>,
    default_size: usize,
    max_size: usize,
) -> Result<PageReq, ApiError> {
    let text = |v: Option<&serde_json::Value>| -> Result<Option<String>, ApiError> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(ApiError::bad_request("invalid.value", &format!("Value [{other}] is not valid for field type [Integer]"))),
        }
    };
    parse(text(size)?.as_deref(), text(number)?.as_deref(), default_size, max_size)
}

impl PageReq {
    /// Number of pages for `total` items (at least 1, as Genesys reports).
    pub fn page_count(&self, total: usize) -> usize {
        total.div_ceil(self.size).max(1)
    }

    /// The slice of `items` for this page (empty past the end).
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.number - 1).saturating_mul(self.size).min(items.len());
        let end = start.saturating_add(self.size).min(items.len());
        &items[start..end]
    }

    /// The paging URIs of a listing at `base` (path) with extra query `extra`.
    pub fn uris(&self, base: &str, extra: &str, total: usize) -> serde_json::Map<String, serde_json::Value> {
        let count = self.page_count(total);
        let uri = |n: usize| format!("{base}?pageSize={}&pageNumber={n}{extra}", self.size);
        let mut m = serde_json::Map::new();
        m.insert("firstUri".into(), uri(1).into());
        m.insert("selfUri".into(), uri(self.number).into());
        m.insert("lastUri".into(), uri(count).into());
        if self.number < count {
            m.insert("nextUri".into(), uri(self.number + 1).into());
        }
        if self.number > 1 {
            m.insert("previousUri".into(), uri(self.number - 1).into());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let p = PageReq { size: 100, number: 13 };
        assert_eq!(p.page_count(1234), 13);
        assert_eq!(p.slice(&(0..1234).collect::<Vec<_>>()).len(), 34);
        let u = p.uris("/api/v2/users", "", 1234);
        assert!(u.get("nextUri").is_none());
        assert_eq!(u["previousUri"], "/api/v2/users?pageSize=100&pageNumber=12");
        let first = PageReq { size: 100, number: 1 }.uris("/api/v2/users", "", 1234);
        assert!(first.get("previousUri").is_none());
        assert_eq!(first["nextUri"], "/api/v2/users?pageSize=100&pageNumber=2");
        assert!(PageReq { size: 10, number: 99 }.slice(&[1, 2, 3]).is_empty());
        assert_eq!(PageReq { size: 25, number: 1 }.page_count(0), 1);
    }

    #[test]
    fn validation() {
        assert_eq!(parse(None, None, 25, 500).unwrap(), PageReq { size: 25, number: 1 });
        assert_eq!(parse(Some("501"), None, 25, 500).unwrap_err().status, 400);
        for bad in ["0", "-1", "abc", "1.5", ""] {
            assert_eq!(parse(Some(bad), None, 25, 500).unwrap_err().status, 400, "{bad}");
            assert_eq!(parse(None, Some(bad), 25, 500).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(parse_json(Some(&serde_json::json!("x")), None, 25, 100).unwrap_err().status, 400);
    }
}
