//! Property tests over everything that reads untrusted input — the config document and entry
//! parser, the 403/429 classifiers, `Retry-After`, the API path check — run briefly in every
//! `npm test`: no input panics, and the egress rule holds for every accepted path.

use genesys_tenants_core::config::split::split_array;
use genesys_tenants_core::config::TenantTable;
use genesys_tenants_core::egress::{check_api_path, EgressPolicy, Gateway};
use genesys_tenants_core::pipeline::classify::classify_parts;
use genesys_tenants_core::retry::retry_after::{from_message, parse_retry_after};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::SystemTime;

/// Strings an adversary would try: escapes, surrogates, huge numbers, brackets, control bytes.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\\\\"\\[\\]{}:,0-9eE+.\\-a-z ]{0,40}",
        Just("\\ud800".to_string()),
        Just("1e400".to_string()),
        Just("[".repeat(300)),
        Just("App not authorized to use scope [users:readonly, users]".to_string()),
        Just("Retry the request in [99999999999999999999] seconds".to_string()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        hostile_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn entry() -> impl Strategy<Value = Value> {
    (prop_oneof![Just("t1".to_string()), hostile_text()], json_value(), json_value(), json_value()).prop_map(|(id, secret, scopes, rotation)| {
        json!({"tenantId": id, "clientId": "c", "clientSecret": secret, "requiredScopes": scopes, "rotationIntervalMs": rotation, "region": "eu-west-1"})
    })
}

proptest! {
    // No regression files in the checkout: a failure prints its minimal input; add it as a case.
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = TenantTable::parse(&bytes, &EgressPolicy::default());
        let _ = split_array(&bytes);
    }

    #[test]
    fn any_document_text_parses_or_fails_cleanly(text in prop::collection::vec(hostile_text(), 0..8)) {
        let doc = format!("[{}]", text.join(","));
        let _ = TenantTable::parse(doc.as_bytes(), &EgressPolicy::default());
    }

    #[test]
    fn entries_are_split_as_serde_reads_them(items in prop::collection::vec(json_value(), 0..8)) {
        let doc = serde_json::to_vec(&items).unwrap();
        let parts = split_array(&doc).unwrap();
        prop_assert_eq!(parts.len(), items.len());
        for (raw, item) in parts.iter().zip(&items) {
            prop_assert_eq!(raw.to_vec(), serde_json::to_vec(item).unwrap());
        }
    }

    #[test]
    fn a_good_entry_survives_any_neighbour(others in prop::collection::vec(entry(), 0..6)) {
        let mut entries = vec![json!({"tenantId": "anchor", "clientId": "c", "clientSecret": "s"})];
        entries.extend(others.into_iter().map(|mut e| {
            if e["tenantId"] == "anchor" { e["tenantId"] = json!("other"); }
            e
        }));
        let t = TenantTable::parse(&serde_json::to_vec(&entries).unwrap(), &EgressPolicy::default()).unwrap();
        prop_assert!(t.get("anchor").is_ok());
    }

    #[test]
    fn classifiers_never_panic(status in 100u16..600, body in prop_oneof![json_value().prop_map(|v| v.to_string()), hostile_text()],
                               name in prop_oneof![Just("retry-after".to_string()), Just("www-authenticate".to_string()), Just("inin-correlation-id".to_string()), hostile_text()],
                               value in hostile_text()) {
        let e = classify_parts("t", status, &body, &[(name, value.clone())]);
        prop_assert!(!e.code().is_empty());
        let _ = parse_retry_after(&value, SystemTime::now());
        let _ = from_message(&value);
    }

    #[test]
    fn every_accepted_path_stays_on_the_api_host(path in prop_oneof![hostile_text(), "/api/v2/[a-z%.\\\\/:@?&=#\\-]{0,30}", "[a-zA-Z:/\\\\ ]{0,12}/api/v2/[a-z./]{0,10}"]) {
        let gateway = Gateway { protocol: "http".into(), host: "127.0.0.1".into(), port: Some(8080), path_params_login: None, path_params_api: Some("gw".into()) };
        for policy in [EgressPolicy::default(), EgressPolicy { gateway: Some(gateway), allowed_hosts: vec![] }] {
            let e = policy.endpoints("mypurecloud.com").unwrap();
            if check_api_path(&path).is_ok() {
                let url = e.api_url(&path).unwrap();
                prop_assert_eq!(url.origin(), e.api_base.origin());
                prop_assert!(url.path().starts_with(&format!("{}api/v2/", e.api_base.path())), "{} -> {}", path, url);
            } else {
                prop_assert!(e.api_url(&path).is_err());
            }
        }
    }
}
