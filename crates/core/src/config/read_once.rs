//! One read of the tenant config, outside any orchestrator: what the tutorial's
//! `fetchTenantConfig(configEndpoint)` does, with the orchestrator's validation and errors.

use super::source::{ConfigSource, Fetched};
use super::table::{TenantEntry, TenantTable};
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::network::Http;
use crate::options::Options;
use serde_json::{json, Value};

/// Reads and validates the config once. Fails with `CONFIG_UNAVAILABLE` when the source cannot be
/// read, is not a JSON array, or holds no valid entry; invalid entries are kept in the table as
/// `TenantEntry::Invalid` so the caller can report them.
///
/// ```no_run
/// # async fn f() -> genesys_tenants_core::Result<()> {
/// use genesys_tenants_core::{config::read_once, Options};
/// let options = Options { config_endpoint: Some("http://127.0.0.1:8081".into()), ..Options::default() };
/// let table = read_once(&options).await?;
/// println!("{:?}", table.valid_ids());
/// # Ok(()) }
/// ```
pub async fn read_once(options: &Options) -> Result<TenantTable> {
    options.validate()?;
    let source = ConfigSource::from_options(options, Http::new(options.network())?)?;
    let unavailable = |why: String| Error::ConfigUnavailable { reason: format!("{}: {why}", source.describe()) };
    match source.fetch(None).await {
        Ok(Fetched::Body { bytes, .. }) => {
            let egress = EgressPolicy { gateway: options.gateway.clone(), allowed_hosts: options.allowed_hosts.clone() };
            TenantTable::parse(&bytes, &egress).map_err(unavailable)
        }
        // Only a conditional read can answer "not modified"; this one sends no version.
        Ok(Fetched::NotModified) => Err(unavailable("answered 304 to an unconditional read".into())),
        Err(why) => Err(unavailable(why)),
    }
}

impl TenantTable {
    /// The table as the tutorial's config objects, **secrets included**, for a caller that asked
    /// for them (`fetchTenantConfig`): `{ tenants: [...], invalid: [{ tenantId, field, reason }],
    /// unkeyed: [reason] }`, tenants sorted by id. Never log what this returns.
    pub fn to_json_exposing_secrets(&self) -> Value {
        let mut ids: Vec<&String> = self.entries.keys().collect();
        ids.sort();
        let mut tenants = Vec::new();
        let mut invalid = Vec::new();
        for id in ids {
            match &self.entries[id] {
                TenantEntry::Valid(t) => tenants.push(t.to_json_exposing_secret()),
                TenantEntry::Invalid(e) => {
                    let mut fields = e.fields();
                    fields.insert("tenantId".into(), json!(id));
                    fields.insert("code".into(), json!(e.code()));
                    fields.insert("message".into(), json!(e.to_string()));
                    invalid.push(Value::Object(fields));
                }
            }
        }
        json!({ "tenants": tenants, "invalid": invalid, "unkeyed": self.unkeyed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Removes the file when the test ends.
    struct TempFile(std::path::PathBuf);
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn file_options(body: &str) -> (Options, TempFile) {
        let path = std::env::temp_dir().join(format!("gt-read-once-{}-{}.json", std::process::id(), rand::random::<u64>()));
        std::fs::write(&path, body).expect("write temp config");
        let options = Options { config_file: Some(path.clone()), ..Options::default() };
        (options, TempFile(path))
    }

    #[tokio::test]
    async fn valid_and_invalid_entries_are_both_reported() {
        let (o, _f) = file_options(
            r#"[{"tenantId":"b","clientId":"cb","clientSecret":"sb","region":"eu-west-1","rotationIntervalMs":5000},
                {"tenantId":"a","clientId":"ca","clientSecret":"sa","requiredScopes":["users:readonly"]},
                {"tenantId":"bad","clientId":"c"}, 7]"#,
        );
        let v = read_once(&o).await.expect("read").to_json_exposing_secrets();
        let ids: Vec<&str> = v["tenants"].as_array().unwrap().iter().map(|t| t["tenantId"].as_str().unwrap()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(v["tenants"][1]["environment"], "mypurecloud.ie");
        assert_eq!(v["tenants"][1]["clientSecret"], "sb");
        assert_eq!(v["tenants"][1]["rotationIntervalMs"], 5000);
        assert_eq!(v["tenants"][0]["rotationIntervalMs"], Value::Null);
        assert_eq!(v["invalid"][0]["tenantId"], "bad");
        assert_eq!(v["invalid"][0]["field"], "clientSecret");
        assert_eq!(v["invalid"][0]["code"], "TENANT_INVALID");
        assert_eq!(v["unkeyed"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn unreadable_or_wholly_invalid_documents_are_config_unavailable() {
        for body in ["{}", "not json", r#"[{"tenantId":"x"}]"#] {
            let (o, _f) = file_options(body);
            let err = read_once(&o).await.expect_err(body);
            assert_eq!(err.code(), "CONFIG_UNAVAILABLE", "{body}");
            assert!(err.to_string().contains("config file"), "{err}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_service_is_config_unavailable_and_bad_options_are_refused() {
        let o = Options { config_endpoint: Some("http://127.0.0.1:9".into()), ..Options::default() };
        assert_eq!(read_once(&o).await.expect_err("port 9").code(), "CONFIG_UNAVAILABLE");
        let none = Options::default();
        assert_eq!(read_once(&none).await.expect_err("no source").code(), "INVALID_OPTIONS");
    }
}
