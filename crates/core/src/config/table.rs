//! The tenant table: a whole config document parsed into valid and invalid entries, and the
//! difference between two tables.

use super::tenant::{parse_entry, ParsedEntry, Tenant};
use crate::egress::EgressPolicy;
use crate::error::Error;
use serde_json::value::RawValue;
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

impl ConfigDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
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
        // The array is split into raw entries and each is parsed on its own: a 10,000-tenant
        // document parsed whole is a tree several times its size, freed only after every tenant
        // was built, and its holes stay in the process's resident memory.
        let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => "the config must be a JSON array of tenant entries".to_string(),
            Err(_) => format!("the config is not valid JSON: {e}"),
        })?;
        let mut table = TenantTable::default();
        table.entries.reserve(items.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in items.iter().enumerate() {
            let item: Value = serde_json::from_str(raw.get()).map_err(|e| format!("entry {i} is not valid JSON: {e}"))?;
            let entry = match parse_entry(&item, i, egress) {
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
        let mut v: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, TenantEntry::Valid(_)))
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }

    /// Sorted ids of invalid tenants.
    pub fn invalid_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, TenantEntry::Invalid(_)))
            .map(|(k, _)| k.clone())
            .collect();
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

    #[test]
    fn duplicates_make_the_id_unusable() {
        let t = parse(r#"[{"tenantId":"a","clientId":"c","clientSecret":"s"},{"tenantId":"a","clientId":"d","clientSecret":"t"},
            {"tenantId":"b","clientId":"c","clientSecret":"s"}]"#).unwrap();
        assert_eq!(t.get("a").unwrap_err().code(), "TENANT_INVALID");
        assert!(t.get("b").is_ok());
    }

    #[test]
    fn diff_is_exact() {
        let old = parse(r#"[{"tenantId":"acme","clientId":"c","clientSecret":"s"},{"tenantId":"acme-corp","clientId":"c2","clientSecret":"s2"},
            {"tenantId":"gone","clientId":"c3","clientSecret":"s3"}]"#).unwrap();
        let new = parse(r#"[{"tenantId":"acme","clientId":"c","clientSecret":"NEW"},{"tenantId":"acme-corp","clientId":"c2","clientSecret":"s2"},
            {"tenantId":"new","clientId":"c4","clientSecret":"s4"}]"#).unwrap();
        let d = new.diff(&old);
        assert_eq!(d.added, vec!["new"]);
        assert_eq!(d.removed, vec!["gone"]);
        assert_eq!(d.changed, vec!["acme"]);
    }
}
