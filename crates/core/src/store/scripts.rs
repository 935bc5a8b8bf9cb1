//! The Lua scripts: each step that must be atomic across replicas.

/// KEYS: lock, fence. ARGV: owner, lease ms. Returns the new fence, or 0 when the lease is held.
pub(crate) const LEASE: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"#;

/// KEYS: token, fence, lock. ARGV: sealed value, ttl ms, our fence, owner.
/// Stores only if no newer lease was granted since ours; releases the lock only if we own it.
pub(crate) const PUT_TOKEN: &str = r#"
local newest = tonumber(redis.call('GET', KEYS[2]) or '0')
local stored = 0
if tonumber(ARGV[3]) >= newest then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  stored = 1
end
if redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('DEL', KEYS[3])
end
return stored
"#;

/// KEYS: lock. ARGV: owner. Deletes the lock only if we own it.
pub(crate) const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// GCRA on Redis's clock. KEYS: rate, pause. ARGV: emission interval ms, burst tolerance ms.
/// Returns 0 when the request may go now, the milliseconds to wait for the budget, or minus the
/// milliseconds a 429 pause still has to run (no budget is taken during a pause).
pub(crate) const GCRA: &str = r#"
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return -paused
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tonumber(ARGV[2])
if now < allow_at then
  return allow_at - now
end
local new_tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now + 1000))
return 0
"#;

/// KEYS: pause. ARGV: pause ms. Starts (or lengthens, never shortens) the tenant's shared 429 pause.
/// Returns what the pause has left after the call, in ms.
pub(crate) const PAUSE: &str = r#"
local left = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if left < want then
  redis.call('SET', KEYS[1], '1', 'PX', want)
  return want
end
return left
"#;
