//! The tenant table: a whole config document parsed into valid and invalid entries, and the
//! difference between two tables. A reload parses only the entries whose text changed: the
//! [`RawIndex`] of the last document maps each valid entry's text (by its SHA-256) to its parse; and a
//! reload that changed a few entries in place edits a copy of the last table instead of building a
//! new one ([`TenantTable::reparse`]).

use super::tenant::{parse_entry, ParsedEntry, Tenant};
use crate::egress::EgressPolicy;
use crate::error::Error;
use serde_json::Value;
use std::collections::HashMap;
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

/// The valid entries of the last document installed, by the SHA-256 of their raw text: an entry
/// whose text is byte for byte the same parses to the same tenant (the parse depends on the text and
/// the egress policy alone), so a reload of 100,000 tenants with one changed parses one. Only hashes
/// are kept — not the document, which holds the secrets in plain text.
#[derive(Debug, Default, Clone)]
pub struct RawIndex {
    parsed: HashMap<[u8; 32], Arc<Tenant>>,
    /// Each entry's digest, in document order: a reload finds the entries that changed in place.
    positions: Vec<[u8; 32]>,
    /// The document had a duplicated `tenantId` or an entry without one: the next reload parses in
    /// full, which alone reproduces those reports exactly.
    irregular: bool,
}

impl RawIndex {
    /// Valid entries indexed.
    pub fn len(&self) -> usize {
        self.parsed.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.parsed.is_empty()
    }
}

fn digest(raw: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(raw).into()
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
        Self::parse_reusing(body, egress, None).map(|(table, _)| table)
    }

    /// [`TenantTable::parse`], taking unchanged valid entries from `previous` (the index of the last
    /// document) instead of parsing them again; returns the index of this document too.
    ///
    /// ```
    /// use genesys_tenants_core::config::TenantTable;
    /// use genesys_tenants_core::egress::EgressPolicy;
    /// let (p, e) = (TenantTable::parse_reusing, &EgressPolicy::default());
    /// let (a, index) = p(br#"[{"tenantId":"a","clientId":"c","clientSecret":"s"}]"#, e, None).unwrap();
    /// let (b, _) = p(br#"[{"tenantId":"a","clientId":"c","clientSecret":"s"}]"#, e, Some(&index)).unwrap();
    /// assert!(std::sync::Arc::ptr_eq(&a.get("a").unwrap(), &b.get("a").unwrap()), "the same text: not parsed again");
    /// ```
    pub fn parse_reusing(body: &[u8], egress: &EgressPolicy, previous: Option<&RawIndex>) -> Result<(TenantTable, RawIndex), String> {
        // The array is split into raw entries and each is parsed on its own: one entry the JSON
        // parser refuses spoils only itself, and a 10,000-tenant document parsed whole would be a
        // tree several times its size, freed only after every tenant was built.
        let items = super::split::split_array(body)?;
        let digests: Vec<[u8; 32]> = items.iter().map(|raw| digest(raw)).collect();
        Self::parse_items(&items, digests, egress, previous)
    }

    fn parse_items(
        items: &[&[u8]],
        digests: Vec<[u8; 32]>,
        egress: &EgressPolicy,
        previous: Option<&RawIndex>,
    ) -> Result<(TenantTable, RawIndex), String> {
        let mut table = TenantTable::default();
        table.entries.reserve(items.len());
        let mut index = RawIndex { parsed: HashMap::with_capacity(items.len()), positions: Vec::new(), irregular: false };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in items.iter().enumerate() {
            let key = digests[i];
            let parsed = match previous.and_then(|p| p.parsed.get(&key)) {
                Some(t) => Ok(Arc::clone(t)),
                None => match parse_raw_entry(raw) {
                    Ok(item) => match parse_entry(&item, i, egress) {
                        ParsedEntry::Valid(t) => Ok(Arc::new(t)),
                        other => Err(other),
                    },
                    Err(bad) => Err(bad.into_parsed(i)),
                },
            };
            let entry = match parsed {
                Ok(t) => {
                    index.parsed.entry(key).or_insert_with(|| Arc::clone(&t));
                    (t.tenant_id.clone(), TenantEntry::Valid(t))
                }
                Err(ParsedEntry::Valid(t)) => (t.tenant_id.clone(), TenantEntry::Valid(Arc::new(t))),
                Err(ParsedEntry::Invalid(e)) => match e.tenant_id() {
                    Some(id) => (id.to_string(), TenantEntry::Invalid(Box::new(e))),
                    None => {
                        table.unkeyed.push(e.to_string());
                        continue;
                    }
                },
                Err(ParsedEntry::Unkeyed(reason)) => {
                    table.unkeyed.push(reason);
                    continue;
                }
            };
            // A duplicated tenantId is ambiguous: using either entry could send the wrong
            // tenant's credentials, so the id becomes unusable until the config is fixed.
            if let Some(first) = seen.insert(entry.0.clone(), i) {
                index.irregular = true;
                let reason = format!("tenantId appears more than once (entries {first} and {i})");
                table.entries.insert(
                    entry.0.clone(),
                    TenantEntry::Invalid(Box::new(Error::TenantInvalid { tenant_id: entry.0, field: "tenantId".into(), reason })),
                );
                continue;
            }
            table.entries.insert(entry.0, entry.1);
        }
        if !items.is_empty() && table.valid_count() == 0 {
            return Err(format!("none of the {} config entries is valid", items.len()));
        }
        index.irregular |= !table.unkeyed.is_empty();
        index.positions = digests;
        Ok((table, index))
    }

    /// A reload: `body` read against the last document's `previous` index and its table `old`.
    /// When only a few entries changed in place (no entry added or dropped, none of them invalid
    /// before, no id duplicated), a copy of `old` is edited — only those entries are parsed — and
    /// the ids touched come back, so the caller diffs only those; otherwise this is
    /// [`TenantTable::parse_reusing`] and the touched ids are `None` (diff everything).
    ///
    /// ```
    /// use genesys_tenants_core::config::TenantTable;
    /// use genesys_tenants_core::egress::EgressPolicy;
    /// let e = &EgressPolicy::default();
    /// let doc = |s: &str| format!(r#"[{{"tenantId":"a","clientId":"c","clientSecret":"s"}},{{"tenantId":"b","clientId":"c","clientSecret":"{s}"}}]"#);
    /// let (old, index) = TenantTable::parse_reusing(doc("1").as_bytes(), e, None).unwrap();
    /// let (new, _, touched) = TenantTable::reparse(doc("2").as_bytes(), e, &index, &old).unwrap();
    /// assert_eq!(touched, Some(vec!["b".to_string()]));
    /// assert_eq!(new.diff_among(&old, &touched.unwrap()).changed, vec!["b"]);
    /// ```
    pub fn reparse(
        body: &[u8],
        egress: &EgressPolicy,
        previous: &RawIndex,
        old: &TenantTable,
    ) -> Result<(TenantTable, RawIndex, Option<Vec<String>>), String> {
        let items = super::split::split_array(body)?;
        let digests: Vec<[u8; 32]> = items.iter().map(|raw| digest(raw)).collect();
        if let Some((table, index, touched)) = Self::edit(&items, &digests, egress, previous, old) {
            return Ok((table, index, Some(touched)));
        }
        Self::parse_items(&items, digests, egress, Some(previous)).map(|(t, i)| (t, i, None))
    }

    /// The edit of [`TenantTable::reparse`]; `None` sends it to the full parse.
    fn edit(
        items: &[&[u8]],
        digests: &[[u8; 32]],
        egress: &EgressPolicy,
        previous: &RawIndex,
        old: &TenantTable,
    ) -> Option<(TenantTable, RawIndex, Vec<String>)> {
        if previous.irregular || !old.unkeyed.is_empty() || previous.positions.len() != digests.len() || digests.is_empty() {
            return None;
        }
        let moved: Vec<usize> = (0..digests.len()).filter(|&i| previous.positions[i] != digests[i]).collect();
        // Past a few, the full parse (which reuses every unchanged entry anyway) is as quick.
        if moved.len() > 64.max(digests.len() / 16) {
            return None;
        }
        // The entries that changed were valid before (an invalid one is not indexed, and its id is
        // then unknown here).
        let before: Vec<&Arc<Tenant>> = moved.iter().map(|&i| previous.parsed.get(&previous.positions[i])).collect::<Option<_>>()?;
        let mut table = old.clone();
        let mut index = RawIndex { parsed: previous.parsed.clone(), positions: digests.to_vec(), irregular: false };
        let mut touched: Vec<String> = Vec::with_capacity(moved.len() * 2);
        for (&i, t) in moved.iter().zip(&before) {
            table.entries.remove(&t.tenant_id);
            index.parsed.remove(&previous.positions[i]);
            touched.push(t.tenant_id.clone());
        }
        for &i in &moved {
            let (id, entry) = match parse_raw_entry(items[i]) {
                Ok(item) => match parse_entry(&item, i, egress) {
                    ParsedEntry::Valid(t) => {
                        let t = Arc::new(t);
                        index.parsed.insert(digests[i], Arc::clone(&t));
                        (t.tenant_id.clone(), TenantEntry::Valid(t))
                    }
                    ParsedEntry::Invalid(e) => (e.tenant_id()?.to_string(), TenantEntry::Invalid(Box::new(e))),
                    ParsedEntry::Unkeyed(_) => return None,
                },
                Err(bad) => match bad.into_parsed(i) {
                    ParsedEntry::Invalid(e) => (e.tenant_id()?.to_string(), TenantEntry::Invalid(Box::new(e))),
                    _ => return None,
                },
            };
            // A duplicate is reported by the full parse, with both entries' positions.
            if table.entries.contains_key(&id) {
                return None;
            }
            touched.push(id.clone());
            table.entries.insert(id, entry);
        }
        if table.valid_count() == 0 {
            return None;
        }
        touched.sort();
        touched.dedup();
        Some((table, index, touched))
    }

    /// How many tenants are usable (no list built, nothing sorted).
    pub fn valid_count(&self) -> usize {
        self.entries.values().filter(|e| matches!(e, TenantEntry::Valid(_))).count()
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
        // Lookups in the two maps, not two sorted copies of 100,000 ids; only the (few) ids that
        // changed are sorted.
        let mut d = ConfigDiff::default();
        for (id, entry) in &self.entries {
            match old.entries.get(id) {
                None => d.added.push(id.clone()),
                Some(prev) if entry_changed(entry, prev) => d.changed.push(id.clone()),
                Some(_) => {}
            }
        }
        d.removed = old.entries.keys().filter(|id| !self.entries.contains_key(*id)).cloned().collect();
        d.added.sort();
        d.changed.sort();
        d.removed.sort();
        d
    }

    /// [`TenantTable::diff`] when only the ids in `candidates` can differ (a table edited by
    /// [`TenantTable::reparse`], or one promotion).
    pub fn diff_among(&self, old: &TenantTable, candidates: &[String]) -> ConfigDiff {
        let mut d = ConfigDiff::default();
        for id in candidates {
            match (self.entries.get(id), old.entries.get(id)) {
                (Some(_), None) => d.added.push(id.clone()),
                (None, Some(_)) => d.removed.push(id.clone()),
                (Some(a), Some(b)) if entry_changed(a, b) => d.changed.push(id.clone()),
                _ => {}
            }
        }
        for v in [&mut d.added, &mut d.changed, &mut d.removed] {
            v.sort();
            v.dedup();
        }
        d
    }
}

fn entry_changed(entry: &TenantEntry, prev: &TenantEntry) -> bool {
    match (entry, prev) {
        // An entry taken unchanged from the last document is the same tenant.
        (TenantEntry::Valid(a), TenantEntry::Valid(b)) => !Arc::ptr_eq(a, b) && a.differs(b),
        (TenantEntry::Invalid(a), TenantEntry::Invalid(b)) => a.to_string() != b.to_string(),
        _ => true,
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

    #[test]
    fn a_reload_parses_only_the_entries_whose_text_changed() {
        let e = EgressPolicy::default();
        let doc = |b: &str, space: &str| {
            format!(
                r#"[{{"tenantId":"a","clientId":"c","clientSecret":"s"}},{b},{{"tenantId":"a","clientId":"c","clientSecret":"s"}},
                {{{space}"tenantId":"d","clientId":"c4","clientSecret":"s4"}},{{"tenantId":"x"}}, 7]"#
            )
        };
        let b1 = r#"{"tenantId":"b","clientId":"c2","clientSecret":"s2"}"#;
        let b2 = r#"{"tenantId":"b","clientId":"c2","clientSecret":"NEW"}"#;
        let (old, index) = TenantTable::parse_reusing(doc(b1, "").as_bytes(), &e, None).unwrap();
        assert_eq!(index.len(), 3, "each distinct valid entry's text once (a's twice, x and 7 invalid)");
        let (new, _) = TenantTable::parse_reusing(doc(b2, " ").as_bytes(), &e, Some(&index)).unwrap();
        // The entry whose text is the same is the same parse; the changed one, and one that only
        // gained a space, are parsed again — and the space changes nothing.
        let same = |id: &str| Arc::ptr_eq(&old.get(id).unwrap(), &new.get(id).unwrap());
        assert!(!same("b"), "changed: parsed again");
        assert!(!same("d"), "reformatted: parsed again");
        assert_eq!(new.get("b").unwrap().client_secret.expose(), "NEW");
        assert_eq!(new.diff(&old), ConfigDiff { added: vec![], removed: vec![], changed: vec!["b".into()] });
        // What is not taken from the index is as before: the duplicated id stays unusable, the
        // invalid and unkeyed entries are reported again.
        assert!(matches!(new.get("a"), Err(Error::TenantInvalid { ref field, .. }) if field == "tenantId"));
        assert_eq!((new.invalid_ids(), new.unkeyed.len()), (vec!["a".to_string(), "x".to_string()], 1));
        // Only the entry of one id that stays valid keeps its parse across the reload.
        let (c, index) = TenantTable::parse_reusing(b"[{\"tenantId\":\"c\",\"clientId\":\"c\",\"clientSecret\":\"s\"}]", &e, None).unwrap();
        let (c2, _) =
            TenantTable::parse_reusing(b"[{\"tenantId\":\"c\",\"clientId\":\"c\",\"clientSecret\":\"s\"}]", &e, Some(&index)).unwrap();
        assert!(Arc::ptr_eq(&c.get("c").unwrap(), &c2.get("c").unwrap()), "the same text: not parsed again");
        assert!(c2.diff(&c).is_empty());
    }

    #[test]
    fn a_reload_edit_gives_what_the_full_parse_gives() {
        let e = EgressPolicy::default();
        let entry = |id: &str, secret: &str| format!(r#"{{"tenantId":"{id}","clientId":"c","clientSecret":"{secret}"}}"#);
        let base: Vec<String> = (0..40).map(|i| entry(&format!("t{i}"), "s")).collect();
        let doc = |v: &[String]| format!("[{}]", v.join(","));
        let (old, index) = TenantTable::parse_reusing(doc(&base).as_bytes(), &e, None).unwrap();
        let mut cases: Vec<(&str, Vec<String>, bool)> = Vec::new();
        let with = |i: usize, text: String| {
            let mut v = base.clone();
            v[i] = text;
            v
        };
        cases.push(("a secret changed", with(3, entry("t3", "NEW")), true));
        cases.push(("an id renamed", with(5, entry("renamed", "s")), true));
        cases.push(("made invalid", with(7, r#"{"tenantId":"t7","clientId":"c"}"#.into()), true));
        cases.push(("made a duplicate", with(8, entry("t9", "s")), false));
        cases.push(("made unkeyed", with(9, "7".into()), false));
        cases.push(("unchanged", base.clone(), true));
        let mut longer = base.clone();
        longer.push(entry("extra", "s"));
        cases.push(("one more entry", longer, false));
        let mut swapped = base.clone();
        swapped.swap(1, 2);
        cases.push(("two entries swapped", swapped, true));
        for (name, v, edited) in cases {
            let body = doc(&v);
            let (full, _) = TenantTable::parse_reusing(body.as_bytes(), &e, Some(&index)).unwrap();
            let (new, new_index, touched) = TenantTable::reparse(body.as_bytes(), &e, &index, &old).unwrap();
            assert_eq!(touched.is_some(), edited, "{name}: edited or parsed in full");
            assert_eq!(
                (new.valid_ids(), new.invalid_ids(), new.unkeyed.len()),
                (full.valid_ids(), full.invalid_ids(), full.unkeyed.len()),
                "{name}"
            );
            let diff = match &touched {
                Some(ids) => new.diff_among(&old, ids),
                None => new.diff(&old),
            };
            assert_eq!(diff, full.diff(&old), "{name}");
            // The index after an edit serves the next reload like a full parse's index.
            let (again, _, touched_again) = TenantTable::reparse(body.as_bytes(), &e, &new_index, &new).unwrap();
            assert!(again.diff(&new).is_empty(), "{name}: the same document again changes nothing");
            if edited {
                assert_eq!(touched_again, Some(vec![]), "{name}: nothing moved");
            }
        }
        // An entry that was invalid before is parsed in full (its id is not indexed).
        let bad = with_first_invalid(&base);
        let (old_bad, index_bad) = TenantTable::parse_reusing(doc(&bad).as_bytes(), &e, None).unwrap();
        let (_, _, touched) = TenantTable::reparse(doc(&base).as_bytes(), &e, &index_bad, &old_bad).unwrap();
        assert_eq!(touched, None);
    }

    fn with_first_invalid(v: &[String]) -> Vec<String> {
        let mut v = v.to_vec();
        v[0] = r#"{"tenantId":"t0","clientId":"c"}"#.into();
        v
    }
}
