//! Shared notification channels (docs/notifications.md, "Shared mode"). One replica per tenant holds
//! the tenant's channels under a lease (`SET NX PX`, renewed by its holder, taken over when it lapses);
//! every replica writes the topics it wants into a hash (one field per replica, with the time it last
//! said so) and bumps a version; the holder subscribes the union, records the version it applied, and
//! appends every event — sealed — to a capped stream that every replica reads from where it left off.
//!
//! A stream, not pub/sub: a reader that misses a few polls (a slow event loop, a brief Redis hiccup)
//! resumes from its last id instead of losing what was published meanwhile, and the cap
//! ([`STREAM_CAP`]) bounds Redis's memory; pub/sub drops whatever is published while a subscriber is
//! away, and Redis disconnects a slow subscriber outright.

use super::redis_store::{unix_ms, SharedStore, StoreError};
use redis::Script;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// Events kept per tenant's stream (Redis trims the oldest, approximately).
pub const STREAM_CAP: usize = 100_000;
/// Events read per poll.
pub const READ_COUNT: usize = 1000;

/// KEYS: holder. ARGV: owner, ms. Renews our lease or takes a free one: 1 held, 0 held by another.
static HOLD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"#,
    )
});

/// KEYS: wants, version. ARGV: owner, JSON. Records one replica's topics; returns the new version.
static WANT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], 86400000)
local v = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
return v
"#,
    )
});

/// KEYS: stream. ARGV: after id, count. Flat `{id, topic, sealed, …}` of what follows `after`.
static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local r = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
local out = {}
for _, e in ipairs(r) do
  local f = e[2]
  out[#out + 1] = e[1]
  out[#out + 1] = f[2]
  out[#out + 1] = f[4]
end
return out
"#,
    )
});

struct NKeys {
    holder: String,
    wants: String,
    version: String,
    applied: String,
    refused: String,
    stream: String,
}

/// One event read from the stream.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    /// The topic, for routing to this replica's subscribers.
    pub topic: String,
    /// The event as subscribers receive it (JSON text).
    pub text: Arc<str>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Wants {
    at: u64,
    topics: Vec<String>,
    /// The replica's `add`s and `remove`s not answered yet, in the order they were made.
    #[serde(default)]
    pending: Vec<WantedChange>,
}

/// One `add` or `remove` a replica made that the holder has not answered yet: its id (unique in the
/// replica) and the topics it brought or took away.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WantedChange {
    /// The request's id (its refusal, if any, is recorded under it).
    pub id: u64,
    /// The topics it added (or removed).
    pub topics: BTreeSet<String>,
    /// A `remove` (its failure is recorded under its id).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

/// One replica's wanted topics, as the holder reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaWants {
    /// The replica's id.
    pub owner: String,
    /// Every topic it wants.
    pub topics: BTreeSet<String>,
    /// Its `add`s and `remove`s not answered yet, oldest first.
    pub pending: Vec<WantedChange>,
}

impl SharedStore {
    fn nkeys(&self, tenant_id: &str) -> NKeys {
        // The tenant's hash tag, as keys.rs makes it: one Cluster slot for all of these.
        let tag = format!("{}{{{}}}", self.settings.prefix, hex::encode(tenant_id.as_bytes()));
        NKeys {
            holder: format!("{tag}:ntf:holder"),
            wants: format!("{tag}:ntf:wants"),
            version: format!("{tag}:ntf:ver"),
            applied: format!("{tag}:ntf:applied"),
            refused: format!("{tag}:ntf:refused"),
            stream: format!("{tag}:ntf:events"),
        }
    }

    fn event_aad(tenant_id: &str) -> Vec<u8> {
        format!("notification|{tenant_id}").into_bytes()
    }

    /// Takes or renews the lease on the tenant's channels for `ttl`: true while this replica holds them.
    pub async fn hold_channels(&self, tenant_id: &str, ttl: Duration) -> Result<bool, StoreError> {
        let (k, owner, ms) = (self.nkeys(tenant_id).holder, self.origin.clone(), ttl.as_millis().max(1) as u64);
        let held: i64 = self.run(|mut c| async move { HOLD.key(&k).arg(&owner).arg(ms).invoke_async(&mut c).await }).await?;
        Ok(held == 1)
    }

    /// Gives the lease up (if ours), so another replica takes over at once.
    pub async fn release_channels(&self, tenant_id: &str) {
        let (k, owner) = (self.nkeys(tenant_id).holder, self.origin.clone());
        let _: Result<i64, _> =
            self.run(|mut c| async move { super::scripts::RELEASE.key(&k).arg(&owner).invoke_async(&mut c).await }).await;
    }

    /// Records the topics this replica wants (none: it wants nothing) and its `add`s and `remove`s not
    /// answered yet (oldest first); returns the tenant's new version.
    pub async fn put_wanted_topics(&self, tenant_id: &str, topics: &BTreeSet<String>, pending: &[WantedChange]) -> Result<u64, StoreError> {
        let k = self.nkeys(tenant_id);
        // Nothing wanted and nothing pending: the field goes (a `remove` of the last topics stays
        // until answered, so its failure can reach it).
        let value = if topics.is_empty() && pending.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&Wants { at: unix_ms(), topics: topics.iter().cloned().collect(), pending: pending.to_vec() })
                .unwrap_or_default()
        };
        let owner = self.origin.clone();
        let v: i64 =
            self.run(|mut c| async move { WANT.key(&k.wants).key(&k.version).arg(&owner).arg(value).invoke_async(&mut c).await }).await?;
        Ok(v.max(0) as u64)
    }

    /// The tenant's version and each replica's topics (by replica id), of the replicas that said so
    /// within `fresh`.
    pub async fn wanted_by_replica(&self, tenant_id: &str, fresh: Duration) -> Result<(u64, Vec<ReplicaWants>), StoreError> {
        let k = self.nkeys(tenant_id);
        let (version, all): (Option<u64>, Vec<(String, String)>) = self
            .run(|mut c| async move {
                let v: Option<u64> = redis::cmd("GET").arg(&k.version).query_async(&mut c).await?;
                let all: Vec<(String, String)> = redis::cmd("HGETALL").arg(&k.wants).query_async(&mut c).await?;
                Ok((v, all))
            })
            .await?;
        let oldest = unix_ms().saturating_sub(fresh.as_millis() as u64);
        let mut out: Vec<ReplicaWants> = all
            .into_iter()
            .filter_map(|(owner, text)| {
                serde_json::from_str::<Wants>(&text).ok().filter(|w| w.at >= oldest).map(|w| ReplicaWants {
                    owner,
                    topics: w.topics.into_iter().collect(),
                    pending: w.pending,
                })
            })
            .collect();
        out.sort_by(|a, b| a.owner.cmp(&b.owner));
        Ok((version.unwrap_or(0), out))
    }

    /// Records that the holder could not apply (or remove) request `id` of replica `owner` (read at `version`):
    /// `error` (JSON, `notifications::wire`), sealed, under `{owner}:{id}`.
    pub async fn refuse_wanted(
        &self,
        tenant_id: &str,
        owner: &str,
        id: u64,
        version: u64,
        error: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let k = self.nkeys(tenant_id).refused;
        let text = serde_json::json!({"version": version, "error": error}).to_string();
        let sealed = self.key.seal(text.as_bytes(), &Self::refusal_aad(tenant_id));
        let field = format!("{owner}:{id}");
        let mut pipe = redis::pipe();
        pipe.cmd("HSET").arg(&k).arg(field).arg(&sealed).ignore();
        pipe.cmd("PEXPIRE").arg(&k).arg(86_400_000u64).ignore();
        self.run(|mut c| async move { pipe.query_async::<()>(&mut c).await }).await
    }

    /// Where this replica's request `id` stands: the version the holder applied, and its refusal
    /// (`(version, error JSON)`), if the holder refused it.
    pub async fn wanted_outcome(&self, tenant_id: &str, id: u64) -> Result<(u64, Option<(u64, serde_json::Value)>), StoreError> {
        let k = self.nkeys(tenant_id);
        let field = format!("{}:{id}", self.origin);
        let (applied, refused): (Option<u64>, Option<String>) = self
            .run(|mut c| async move {
                let a: Option<u64> = redis::cmd("GET").arg(&k.applied).query_async(&mut c).await?;
                let r: Option<String> = redis::cmd("HGET").arg(&k.refused).arg(&field).query_async(&mut c).await?;
                Ok((a, r))
            })
            .await?;
        let refusal = refused.and_then(|sealed| {
            let plain = self.key.open(&sealed, &Self::refusal_aad(tenant_id)).ok()?;
            let v: serde_json::Value = serde_json::from_slice(&plain).ok()?;
            Some((v.get("version")?.as_u64()?, v.get("error")?.clone()))
        });
        Ok((applied.unwrap_or(0), refusal))
    }

    /// Forgets the refusal of this replica's request `id` (read by the request it answered).
    pub async fn forget_refusal(&self, tenant_id: &str, id: u64) {
        let (k, field) = (self.nkeys(tenant_id).refused, format!("{}:{id}", self.origin));
        let _: Result<(), _> =
            self.run(|mut c| async move { redis::cmd("HDEL").arg(&k).arg(&field).query_async::<()>(&mut c).await }).await;
    }

    fn refusal_aad(tenant_id: &str) -> Vec<u8> {
        format!("notification-refusal|{tenant_id}").into_bytes()
    }

    /// Records the version the holder has subscribed.
    pub async fn set_applied(&self, tenant_id: &str, version: u64) -> Result<(), StoreError> {
        let k = self.nkeys(tenant_id).applied;
        self.run(|mut c| async move { redis::cmd("SET").arg(&k).arg(version).arg("PX").arg(86_400_000u64).query_async::<()>(&mut c).await })
            .await
    }

    /// Appends events (`(topic, text)`), sealed, to the tenant's stream.
    pub async fn publish_events(&self, tenant_id: &str, events: &[(String, Arc<str>)]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let k = self.nkeys(tenant_id).stream;
        let aad = Self::event_aad(tenant_id);
        let mut pipe = redis::pipe();
        for (topic, text) in events {
            let sealed = self.key.seal(text.as_bytes(), &aad);
            pipe.cmd("XADD").arg(&k).arg("MAXLEN").arg("~").arg(STREAM_CAP).arg("*").arg("t").arg(topic).arg("e").arg(sealed).ignore();
        }
        self.run(|mut c| async move { pipe.query_async::<()>(&mut c).await }).await
    }

    /// The id of the stream's last event (`0-0` when empty): where a new reader starts.
    pub async fn stream_tail(&self, tenant_id: &str) -> Result<String, StoreError> {
        let k = self.nkeys(tenant_id).stream;
        let last: Vec<(String, Vec<String>)> = self
            .run(|mut c| async move { redis::cmd("XREVRANGE").arg(&k).arg("+").arg("-").arg("COUNT").arg(1).query_async(&mut c).await })
            .await?;
        Ok(last.into_iter().next().map_or_else(|| "0-0".to_string(), |(id, _)| id))
    }

    /// The events after `after` (at most [`READ_COUNT`]) and the id to read after next; an event
    /// that cannot be opened (another key, tampered) is skipped.
    pub async fn read_events(&self, tenant_id: &str, after: &str) -> Result<(String, Vec<StreamEvent>), StoreError> {
        let (k, from) = (self.nkeys(tenant_id).stream, after.to_string());
        let flat: Vec<String> = self.run(|mut c| async move { READ.key(&k).arg(&from).arg(READ_COUNT).invoke_async(&mut c).await }).await?;
        let aad = Self::event_aad(tenant_id);
        let mut last = after.to_string();
        let mut out = Vec::with_capacity(flat.len() / 3);
        for e in flat.chunks_exact(3) {
            last = e[0].clone();
            if let Ok(plain) = self.key.open(&e[2], &aad) {
                if let Ok(text) = String::from_utf8(plain.to_vec()) {
                    out.push(StreamEvent { topic: e[1].clone(), text: text.into() });
                }
            }
        }
        Ok((last, out))
    }
}
