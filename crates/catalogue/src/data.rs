//! Reading `data/operations.json` (written by `scripts/gen-catalogue.mjs`): strings are borrowed from
//! the compiled-in text; each list is built once and lives as long as the process, like the table.

use crate::operation::{Operation, Permissions};
use crate::table::Catalogue;
use serde::Deserialize;

/// `[method, template, sdk method, mode, permission indexes, scope indexes | null, replay-safe, in-SDK]`.
type RawOp<'a> = (&'a str, &'a str, &'a str, &'a str, Vec<u32>, Option<Vec<u32>>, u8, u8);

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    sdk: &'a str,
    #[serde(borrow)]
    strings: Vec<&'a str>,
    #[serde(borrow)]
    ops: Vec<RawOp<'a>>,
}

fn strings(all: &[&'static str], idx: &[u32]) -> Result<&'static [&'static str], String> {
    let list = idx
        .iter()
        .map(|&i| all.get(i as usize).copied().ok_or_else(|| format!("string index {i} out of range")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::leak(list.into_boxed_slice()))
}

pub(crate) fn parse(text: &'static str) -> Result<Catalogue, String> {
    let raw: Raw<'static> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut operations = Vec::with_capacity(raw.ops.len());
    for (method, template, sdk_method, mode, perms, scopes, safe, in_sdk) in raw.ops {
        let list = strings(&raw.strings, &perms)?;
        let permissions = match mode {
            "ANY" => Permissions::Any(list),
            "ALL" => Permissions::All(list),
            "NONE" => Permissions::None,
            "?" => Permissions::Unknown,
            other => return Err(format!("{method} {template}: unknown permission mode {other:?}")),
        };
        let scopes = scopes.map(|s| strings(&raw.strings, &s)).transpose()?;
        operations.push(Operation { method, template, sdk_method, permissions, scopes, replay_safe: safe == 1, in_sdk: in_sdk == 1 });
    }
    Ok(Catalogue::new(raw.sdk, operations))
}
