//! The Lua scripts: each step that must be atomic across replicas. Each is a [`Script`] made once per
//! process: `Script::new` hashes its text (the SHA1 `EVALSHA` sends), which a call should not redo.

use redis::Script;
use std::sync::LazyLock;

/// KEYS: lock, fence. ARGV: owner, lease ms. Returns the new fence, or 0 when the lease is held.
pub(crate) static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"#,
    )
});

/// KEYS: token, fence, lock. ARGV: sealed value, ttl ms, our fence, owner.
/// Stores only if no newer lease was granted since ours; releases the lock only if we own it.
pub(crate) static PUT_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
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
"#,
    )
});

/// KEYS: lock. ARGV: owner. Deletes the lock only if we own it.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#,
    )
});

/// The shared budget: a fixed window, as Genesys counts — at most `allowed` slots from the window's
/// start until `window` (+ margin) later, taken as fast as callers come. The hash `KEYS[1]` holds the
/// window (`g` generation, `s` start on Redis's clock, `n` slots taken) and the budget every replica
/// goes by (`a`, `w`, `src`: `h` said by headers, `i` inferred from a 429). Without headers it also holds
/// `o` (when the window opened, before any anchoring: what a 429 measures the window's length from).
/// KEYS: window, pause. ARGV: allowed, window ms, said (0 configured, 1 headers, 2 headers of the
/// request that opened a server window: its length is exact), margin ms, how many full windows without
/// a 429 an inferred budget needs before it is probed (the number of the rule the in-process limiter
/// follows too, `pipeline::rate_limit::probing`; the steps below mirror its `clean_after` and `may_probe`).
/// Returns `{wait, generation, slot, probe}`: wait 0 with the slot taken, the milliseconds until the
/// window ends, or minus the milliseconds a 429 pause still has to run (no slot is taken then); probe 1
/// when the slot is one beyond the inferred budget (its answer is reported, see `PROBED`).
pub(crate) static WINDOW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local h = redis.call('HMGET', KEYS[1], 'g', 's', 'n', 'a', 'w', 'src', 'c', 'ig', 'z', 'iw', 'pn')
local a, w, said = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local sa, sw = tonumber(h[4]), tonumber(h[5])
if said > 0 then
  -- A countdown seen mid-window is shorter than the window: it only lengthens a known one.
  if h[6] == 'h' and said == 1 and sw and sw > w then w = sw end
  if h[6] ~= 'h' or sa ~= a or sw ~= w then
    redis.call('HSET', KEYS[1], 'a', a, 'w', w, 'src', 'h')
  end
elseif h[6] then
  a, w = sa, sw
end
-- What headers said is stored even during a pause (above): the replicas that heard nothing go by it
-- when the pause ends, instead of bursting their configured budget into the server's window.
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return {-paused, 0, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local g, s, n = tonumber(h[1] or '0'), tonumber(h[2]), tonumber(h[3] or '0')
local margin = tonumber(ARGV[4])
local ended = not s or now >= s + w + margin
local src, clean, pending = h[6], tonumber(h[7] or '0'), tonumber(h[11] or '0')
if ended and h[6] ~= 'h' and tonumber(h[8]) == g and g > 0 then
  -- The window that ended met 429s and no header ever said the budget: every slot taken in it has
  -- been answered by now (the pause outlasted them), so what the server admitted — every replica's
  -- slots (less those handed back unsent), less the 429s — is the budget.
  a = math.max(1, n - tonumber(h[9] or '0'))
  redis.call('HSET', KEYS[1], 'a', a, 'w', tonumber(h[10]), 'src', 'i', 'c', 0)
  redis.call('HDEL', KEYS[1], 'ig')
  w = tonumber(h[10])
  src, clean = 'i', 0
elseif ended then
  if s and src == 'i' then
    -- Windows an inferred budget used whole without a 429, in a row.
    if n >= a then clean = clean + 1 else clean = 0 end
    redis.call('HSET', KEYS[1], 'c', clean)
  end
end
if ended then
  g, s, n, pending = g + 1, now, 0, 0
  redis.call('HSET', KEYS[1], 'o', now, 'pn', 0)
end
if n >= a then
  if said == 0 and src == 'i' and clean >= tonumber(ARGV[5]) and pending == 0 then
    -- An inferred budget the last windows used whole without a 429 may be an under-estimate (a 429
    -- another cause provoked): one slot more is let out as a probe, and the next only once its
    -- answer came back admitted (which raises the budget to it). At most one probe is in flight,
    -- so a budget that was right costs one 429, which re-learns it.
    n = n + 1
    redis.call('HSET', KEYS[1], 'g', g, 's', s, 'n', n, 'pn', n)
    return {0, g, n, 1}
  end
  return {s + w + margin - now, g, n, 0}
end
n = n + 1
redis.call('HSET', KEYS[1], 'g', g, 's', s, 'n', n)
redis.call('PEXPIRE', KEYS[1], math.max(2 * (w + margin), 3600000))
return {0, g, n, 0}
"#,
    )
});

/// The answer to the request that opened the server's window (`inin-ratelimit-count` 1): that
/// window started before now, so the shared one is re-anchored to start now (late, never early),
/// or opened now if it had ended. KEYS: window. ARGV: the server's count, the window ms the caller
/// learned (used when no replica has stored one yet).
pub(crate) static ALIGN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local h = redis.call('HMGET', KEYS[1], 's', 'n', 'w', 'g')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s, n, w = tonumber(h[1]), tonumber(h[2] or '0'), tonumber(h[3]) or tonumber(ARGV[2])
local count = tonumber(ARGV[1])
if s and w and now < s + w then
  if now > s then redis.call('HSET', KEYS[1], 's', now) end
  if count > n then redis.call('HSET', KEYS[1], 'n', count) end
  return 1
end
redis.call('HSET', KEYS[1], 'g', tonumber(h[4] or '0') + 1, 's', now, 'o', now, 'n', count)
redis.call('PEXPIRE', KEYS[1], math.max(2 * w, 3600000))
return 2
"#,
    )
});

/// Without headers, the answer to a window's first slot came back: the server's window opened when the
/// window's first request reached it (its previous one had ended: the shared window ends late, and a
/// pause outlasts the server's window), so before now — the shared window is re-anchored to start now,
/// once per window: it ends late, never early, however long its first requests took to reach the
/// server (a late opener no longer shifts the next window into the server's current one).
/// KEYS: window. ARGV: the slot's generation. Returns 1 when re-anchored.
pub(crate) static ANCHOR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local h = redis.call('HMGET', KEYS[1], 'g', 's', 'src', 'an')
if tonumber(h[1]) ~= tonumber(ARGV[1]) or not h[2] or h[3] == 'h' or h[4] == ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > tonumber(h[2]) then
  redis.call('HSET', KEYS[1], 's', now)
end
redis.call('HSET', KEYS[1], 'an', ARGV[1])
return 1
"#,
    )
});

/// A probe slot's answer came back admitted (not a 429): the budget is at least that slot's number
/// (slots handed back unsent were taken out of the count), and the next probe may go. KEYS: window. ARGV: the slot's
/// generation, its number. Returns 1 when the budget was raised.
pub(crate) static PROBED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local h = redis.call('HMGET', KEYS[1], 'g', 'pn', 'a', 'src')
if tonumber(h[1]) ~= tonumber(ARGV[1]) or tonumber(h[2]) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'pn', 0)
local admitted = tonumber(ARGV[2])
if h[4] == 'i' and admitted > tonumber(h[3]) then
  redis.call('HSET', KEYS[1], 'a', admitted)
  return 1
end
return 0
"#,
    )
});

/// A slot was taken but its request was not sent (a 429 hold of its replica started meanwhile; it takes
/// a fresh slot after): it goes back to its window, which neither spends it nor counts it as admitted.
/// KEYS: window. ARGV: the slot's generation.
pub(crate) static UNUSED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local h = redis.call('HMGET', KEYS[1], 'g', 'n')
if tonumber(h[1]) == tonumber(ARGV[1]) and tonumber(h[2] or '0') > 0 then
  return redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0
"#,
    )
});

/// A 429. KEYS: pause, window. ARGV: pause ms, the generation of the window the throttled request
/// took its slot in (0: none).
/// Starts (or lengthens, never shortens) the tenant's shared pause, and ends the shared window: the
/// server's window resets when the pause ends, so the next one opens then. When no header ever said
/// the budget, the 429s of a window teach it: they are counted (`z`), and the window that opens after
/// the pause takes as budget the slots of this one the server admitted; the window's length is from
/// its opening (`o`, before any anchoring: at or before the server's window opened) to the first 429's
/// pause end, in whole seconds (as `Retry-After` counts, rounded up: the span also holds the time before
/// the server's window opened, which is less than a second).
/// Returns what the pause has left after the call, in ms.
pub(crate) static PAUSE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local left = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if left < want then
  redis.call('SET', KEYS[1], '1', 'PX', want)
  left = want
end
local h = redis.call('HMGET', KEYS[2], 'g', 's', 'src', 'ig', 'o')
local gen = tonumber(ARGV[2])
if h[1] and h[3] ~= 'h' and gen > 0 and tonumber(h[1]) == gen then
  if tonumber(h[4]) ~= gen and h[2] then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local span = now + want - (tonumber(h[5]) or tonumber(h[2]))
    redis.call('HSET', KEYS[2], 'ig', gen, 'z', 0, 'iw', math.max(1000, span - span % 1000))
  end
  redis.call('HINCRBY', KEYS[2], 'z', 1)
end
redis.call('HDEL', KEYS[2], 's')
return left
"#,
    )
});
