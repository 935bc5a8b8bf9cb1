//! The tenant table: a whole config document parsed into valid and invalid entries, and the
//! difference between two tables.

use super::tenant::{parse_entry, ParsedEntry, Tenant};
use crate::egress::EgressPolicy;
use crate::error::Error;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One tenant id's state in the table.
#[derive(Debug, Clone)]
pub enum TenantEntry {
    /// Usable.
    Valid(Arc<Tenant>),
    /// Present but unusable: using it fails with this error. Boxed: an `Error` is 136 bytes, and
    /// every slot of a table of 10,000 tenants would pay for it.
    Invalid(Box<Error>),
}

/// A parsed config document.
#[derive(Debug, Clone, Default)]
pub struct TenantTable {
    /// By tenant id.
    pub entries: HashMap<String, TenantEntry>,
    /// Entries that could not even be keyed (no tenantId, not an object), described.
    pub unkeyed: Vec<String>,
}

/// What changed between two tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConfigDiff {
    /// Tenant ids that appeared.
    pub added: Vec<String>,
    /// Tenant ids that disappeared.
    pub removed: Vec<String>,
    /// Tenant ids whose entry changed (credentials, region, scopes, rotation, validity).
    pub changed: Vec<String>,
}

impl TenantTable {
    /// Usable tenants whose id or `domainPrefix` is exactly `key` (the tutorial's
    /// `rotateCredentials(domainPrefix)`, minus its prefix match: `acme` never matches `acme-corp`).
    ///
    /// ```no_run
    /// # fn f(o: &genesys_tenants_core::Orchestrator) {
    /// let ids = o.tenants_named("acme");
    /// # let _ = ids; }
    /// ```
    pub fn named(&self, key: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .entries
            .values()
            .filter_map(|e| match e {
                TenantEntry::Valid(t) if t.tenant_id == key || t.domain_prefix.as_deref() == Some(key) => Some(t.tenant_id.clone()),
                _ => None,
            })
            .collect();
        ids.sort();
        ids
    }

    /// Puts each promoted pending credential (tenant id → fingerprint) in use; forgets the
    /// promotions the config no longer stages (it moved the tenant on, or dropped the pending one).
    pub fn apply_promotions(&mut self, promotions: &mut HashMap<String, String>) {
        promotions.retain(|id, fp| match self.entries.get_mut(id) {
            Some(TenantEntry::Valid(t)) if t.pending_fingerprint() == Some(fp.as_str()) => {
                if let Some(promoted) = t.with_pending_in_use() {
                    *t = Arc::new(promoted);
                }
                true
            }
            _ => false,
        });
    }
}

impl ConfigDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Why one raw entry could not be parsed as JSON, and whose it is when that can still be read.
struct Unparsed {
    tenant_id: Option<String>,
    field: String,
    reason: String,
}

impl Unparsed {
    fn into_parsed(self, index: usize) -> ParsedEntry {
        match self.tenant_id {
            Some(tenant_id) => ParsedEntry::Invalid(Error::TenantInvalid { tenant_id, field: self.field, reason: self.reason }),
            None => ParsedEntry::Unkeyed(format!("entry {index}: {}: {}", self.field, self.reason)),
        }
    }
}

/// "number out of range at line 1 column 7" → "number out of range" (positions inside one entry
/// mean nothing to the reader of the whole document).
fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn parse_value(raw: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(raw).map_err(|e| format!("is not valid UTF-8 (byte {} of the value)", e.valid_up_to()))?;
    serde_json::from_str(text).map_err(|e| without_position(&e))
}

/// Parses one entry; when the parser refuses it, finds the member at fault and the entry's
/// `tenantId` (when that member is intact), so the error names both.
fn parse_raw_entry(raw: &[u8]) -> Result<Value, Unparsed> {
    let whole = match parse_value(raw) {
        Ok(v) => return Ok(v),
        Err(reason) => reason,
    };
    let mut bad = Unparsed { tenant_id: None, field: "(entry)".into(), reason: whole };
    let mut blamed = false;
    for (key, value) in super::split::object_members(raw).unwrap_or_default() {
        let name = match parse_value(key) {
            Ok(Value::String(n)) => Ok(n),
            Ok(_) => Err("is not a string".to_string()),
            Err(r) => Err(r),
        };
        let parsed = parse_value(value);
        if let (Ok(n), Ok(Value::String(id))) = (&name, &parsed) {
            if n == "tenantId" && super::tenant::check_id(id).is_ok() {
                bad.tenant_id = Some(id.clone());
            }
        }
        let fault = match (name, parsed) {
            (Err(r), _) => Some(("(a member name)".to_string(), r)),
            (Ok(n), Err(r)) => Some((n, r)),
            _ => None,
        };
        if let Some((field, reason)) = fault.filter(|_| !blamed) {
            (bad.field, bad.reason, blamed) = (field, reason, true);
        }
    }
    Err(bad)
}

impl TenantTable {
    /// Parses a config document. The body must be a JSON array; anything else is refused as a
    /// whole (the caller keeps its last good table). So is an array in which not one entry is
    /// valid, unless it is empty.
    ///
    /// ```
    /// use genesys_tenants_core::config::TenantTable;
    /// use genesys_tenants_core::egress::EgressPolicy;
    /// let body = br#"[{"tenantId":"a","clientId":"c","clientSecret":"s"},{"tenantId":"b"}]"#;
    /// let t = TenantTable::parse(body, &EgressPolicy::default()).unwrap();
    /// assert_eq!(t.valid_ids(), vec!["a"]);
    /// assert_eq!(t.invalid_ids(), vec!["b"]);
    /// ```
    pub fn parse(body: &[u8], egress: &EgressPolicy) -> Result<TenantTable, String> {
        // The array is split into raw entries and each is parsed on its own: one entry the JSON
        // parser refuses spoils only itself, and a 10,000-tenant document parsed whole would be a
        // tree several times its size, freed only after every tenant was built.
        let items = super::split::split_array(body)?;
        let mut table = TenantTable::default();
        table.entries.reserve(items.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in items.iter().enumerate() {
            let parsed = match parse_raw_entry(raw) {
                Ok(item) => parse_entry(&item, i, egress),
                Err(bad) => bad.into_parsed(i),
            };
            let entry = match parsed {
                ParsedEntry::Valid(t) => (t.tenant_id.clone(), TenantEntry::Valid(Arc::new(t))),
                ParsedEntry::Invalid(e) => match e.tenant_id() {
                    Some(id) => (id.to_string(), TenantEntry::Invalid(Box::new(e))),
                    None => {
                        table.unkeyed.push(e.to_string());
                        continue;
                    }
                },
                ParsedEntry::Unkeyed(reason) => {
                    table.unkeyed.push(reason);
                    continue;
                }
            };
            // A duplicated tenantId is ambiguous: using either entry could send the wrong
            // tenant's credentials, so the id becomes unusable until the config is fixed.
            if let Some(first) = seen.insert(entry.0.clone(), i) {
                let reason = format!("tenantId appears more than once (entries {first} and {i})");
                table.entries.insert(
                    entry.0.clone(),
                    TenantEntry::Invalid(Box::new(Error::TenantInvalid { tenant_id: entry.0, field: "tenantId".into(), reason })),
                );
                continue;
            }
            table.entries.insert(entry.0, entry.1);
        }
        if !items.is_empty() && table.valid_ids().is_empty() {
            return Err(format!("none of the {} config entries is valid", items.len()));
        }
        Ok(table)
    }

    /// Sorted ids of usable tenants.
    pub fn valid_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.entries.iter().filter(|(_, e)| matches!(e, TenantEntry::Valid(_))).map(|(k, _)| k.clone()).collect();
        v.sort();
        v
    }

    /// Sorted ids of invalid tenants.
    pub fn invalid_ids(&self) -> Vec<String> {
        let mut v: Vec<String> =
            self.entries.iter().filter(|(_, e)| matches!(e, TenantEntry::Invalid(_))).map(|(k, _)| k.clone()).collect();
        v.sort();
        v
    }

    /// The tenant, or the error that using it must give.
    pub fn get(&self, tenant_id: &str) -> Result<Arc<Tenant>, Error> {
        match self.entries.get(tenant_id) {
            Some(TenantEntry::Valid(t)) => Ok(t.clone()),
            Some(TenantEntry::Invalid(e)) => Err(Error::clone(e)),
            None => Err(Error::UnknownTenant { tenant_id: tenant_id.to_string() }),
        }
    }

    /// What changed from `old` to `self`.
    pub fn diff(&self, old: &TenantTable) -> ConfigDiff {
        let mut d = ConfigDiff::default();
        let new_ids: BTreeMap<_, _> = self.entries.iter().collect();
        let old_ids: BTreeMap<_, _> = old.entries.iter().collect();
        for (id, entry) in &new_ids {
            match old_ids.get(id) {
                None => d.added.push((*id).clone()),
                Some(prev) => {
                    let changed = match (entry, prev) {
                        (TenantEntry::Valid(a), TenantEntry::Valid(b)) => a.differs(b),
                        (TenantEntry::Invalid(a), TenantEntry::Invalid(b)) => a.to_string() != b.to_string(),
                        _ => true,
                    };
                    if changed {
                        d.changed.push((*id).clone());
                    }
                }
            }
        }
        d.removed = old_ids.keys().filter(|id| !new_ids.contains_key(*id)).map(|id| (*id).clone()).collect();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_slot_stays_small() {
        // Two words: 10,000 tenants' slots stay well under a megabyte (benchmarked in bench/).
        assert!(std::mem::size_of::<TenantEntry>() <= 16, "{}", std::mem::size_of::<TenantEntry>());
    }

    fn parse(s: &str) -> Result<TenantTable, String> {
        TenantTable::parse(s.as_bytes(), &EgressPolicy::default())
    }

    #[test]
    fn whole_document_failures() {
        assert!(parse("not json").unwrap_err().contains("not valid JSON"));
        assert!(parse(r#"{"tenants":[]}"#).unwrap_err().contains("JSON array"));
        assert!(parse(r#"[{"tenantId":"a"},{"x":1}]"#).unwrap_err().contains("none of the 2"));
        assert!(parse("[]").unwrap().entries.is_empty());
    }

    #[test]
    fn one_bad_entry_leaves_the_others() {
        let t = parse(r#"[{"tenantId":"a","clientId":"c","clientSecret":"s"},{"tenantId":"b","clientId":"c"},7]"#).unwrap();
        assert_eq!(t.valid_ids(), vec!["a"]);
        assert_eq!(t.get("b").unwrap_err().code(), "TENANT_INVALID");
        assert_eq!(t.get("zz").unwrap_err().code(), "UNKNOWN_TENANT");
        assert_eq!(t.unkeyed.len(), 1);
    }

    const GOOD: &str = r#"{"tenantId":"good","clientId":"c","clientSecret":"s"}"#;

    fn invalid_field(t: &TenantTable, id: &str) -> (String, String) {
        match t.get(id) {
            Err(Error::TenantInvalid { field, reason, .. }) => (field, reason),
            other => panic!("{id}: {other:?}"),
        }
    }

    #[test]
    fn an_entry_the_parser_refuses_spoils_only_itself() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let cases: Vec<(String, &str, &str)> = vec![
            (r#"{"tenantId":"bad","clientId":"c","clientSecret":"\ud800"}"#.into(), "clientSecret", "escape"),
            (
                r#"{"tenantId":"bad","clientId":"c","clientSecret":"s","rotationIntervalMs":1e400}"#.into(),
                "rotationIntervalMs",
                "out of range",
            ),
            (format!(r#"{{"tenantId":"bad","clientId":"c","clientSecret":"s","extra":{deep}}}"#), "extra", "recursion limit"),
            (r#"{"tenantId":"bad","clientId":"c","clientSecret":"s","x":tru}"#.into(), "x", "EOF"),
        ];
        for (entry, field, says) in cases {
            let doc = format!("[{GOOD},{entry}]");
            let t = parse(&doc).unwrap_or_else(|e| panic!("{field}: the document failed: {e}"));
            assert_eq!(t.valid_ids(), vec!["good"]);
            let (f, reason) = invalid_field(&t, "bad");
            assert_eq!(f, field);
            assert!(reason.contains(says), "{field}: {reason}");
        }
        // Invalid UTF-8 inside one entry.
        let mut doc = format!("[{GOOD},{{\"tenantId\":\"bad\",\"clientId\":\"c\",\"clientSecret\":\"").into_bytes();
        doc.extend_from_slice(&[0xc3, 0x28]);
        doc.extend_from_slice(b"\"}]");
        let t = TenantTable::parse(&doc, &EgressPolicy::default()).unwrap();
        assert_eq!(t.valid_ids(), vec!["good"]);
        let (f, reason) = invalid_field(&t, "bad");
        assert_eq!((f.as_str(), reason.contains("UTF-8")), ("clientSecret", true), "{reason}");
        // No readable tenantId: reported without a key.
        let t = parse(&format!(r#"[{GOOD},{{"tenantId":"\ud800","clientId":"c"}}]"#)).unwrap();
        assert_eq!(t.unkeyed.len(), 1);
        assert!(t.unkeyed[0].contains("tenantId"), "{:?}", t.unkeyed);
    }

    #[test]
    fn duplicates_make_the_id_unusable() {
        let t = parse(
            r#"[{"tenantId":"a","clientId":"c","clientSecret":"s"},{"tenantId":"a","clientId":"d","clientSecret":"t"},
            {"tenantId":"b","clientId":"c","clientSecret":"s"}]"#,
        )
        .unwrap();
        assert_eq!(t.get("a").unwrap_err().code(), "TENANT_INVALID");
        assert!(t.get("b").is_ok());
    }

    #[test]
    fn diff_is_exact() {
        let old = parse(
            r#"[{"tenantId":"acme","clientId":"c","clientSecret":"s"},{"tenantId":"acme-corp","clientId":"c2","clientSecret":"s2"},
            {"tenantId":"gone","clientId":"c3","clientSecret":"s3"}]"#,
        )
        .unwrap();
        let new = parse(
            r#"[{"tenantId":"acme","clientId":"c","clientSecret":"NEW"},{"tenantId":"acme-corp","clientId":"c2","clientSecret":"s2"},
            {"tenantId":"new","clientId":"c4","clientSecret":"s4"}]"#,
        )
        .unwrap();
        let d = new.diff(&old);
        assert_eq!(d.added, vec!["new"]);
        assert_eq!(d.removed, vec!["gone"]);
        assert_eq!(d.changed, vec!["acme"]);
    }
}
