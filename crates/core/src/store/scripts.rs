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

/// The shared budget: a fixed window, as Genesys counts — at most `allowed` slots from the window's
/// start until `window` (+ margin) later, taken as fast as callers come. The hash `KEYS[1]` holds the
/// window (`g` generation, `s` start on Redis's clock, `n` slots taken) and the budget every replica
/// goes by (`a`, `w`, `src`: `h` said by headers, `i` inferred from a 429).
/// KEYS: window, pause. ARGV: allowed, window ms, said (0 configured, 1 headers, 2 headers of the
/// request that opened a server window: its length is exact), margin ms.
/// Returns `{wait, generation, slot}`: wait 0 with the slot taken, the milliseconds until the window
/// ends, or minus the milliseconds a 429 pause still has to run (no slot is taken then).
pub(crate) const WINDOW: &str = r#"
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return {-paused, 0, 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'g', 's', 'n', 'a', 'w', 'src', 'c', 'ig', 'z', 'iw')
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
local g, s, n = tonumber(h[1] or '0'), tonumber(h[2]), tonumber(h[3] or '0')
local margin = tonumber(ARGV[4])
local ended = not s or now >= s + w + margin
if ended and h[6] ~= 'h' and tonumber(h[8]) == g and g > 0 then
  -- The window that ended met 429s and no header ever said the budget: every slot taken in it has
  -- been answered by now (the pause outlasted them), so what the server admitted is the budget.
  a = math.max(1, n - tonumber(h[9] or '0'))
  redis.call('HSET', KEYS[1], 'a', a, 'w', tonumber(h[10]), 'src', 'i', 'c', 0)
  redis.call('HDEL', KEYS[1], 'ig')
  w = tonumber(h[10])
elseif ended then
  if s and h[6] == 'i' then
    -- An inferred budget that a window used whole without a 429, ten times over, is probed upward
    -- (an under-estimate, say a 429 caused by other traffic, does not stick).
    local c = tonumber(h[7] or '0')
    if n >= a then c = c + 1 else c = 0 end
    if c >= 10 then
      a = a + math.max(1, math.floor(a / 10))
      redis.call('HSET', KEYS[1], 'a', a)
      c = 0
    end
    redis.call('HSET', KEYS[1], 'c', c)
  end
end
if ended then
  g, s, n = g + 1, now, 0
end
if n >= a then
  return {s + w + margin - now, g, n}
end
n = n + 1
redis.call('HSET', KEYS[1], 'g', g, 's', s, 'n', n)
redis.call('PEXPIRE', KEYS[1], math.max(2 * (w + margin), 3600000))
return {0, g, n}
"#;

/// The answer to the request that opened the server's window (`inin-ratelimit-count` 1): that
/// window started before now, so the shared one is re-anchored to start now (late, never early),
/// or opened now if it had ended. KEYS: window. ARGV: the server's count, the window ms the caller
/// learned (used when no replica has stored one yet).
pub(crate) const ALIGN: &str = r#"
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
redis.call('HSET', KEYS[1], 'g', tonumber(h[4] or '0') + 1, 's', now, 'n', count)
redis.call('PEXPIRE', KEYS[1], math.max(2 * w, 3600000))
return 2
"#;

/// A 429. KEYS: pause, window. ARGV: pause ms, the generation of the window the throttled request
/// took its slot in (0: none).
/// Starts (or lengthens, never shortens) the tenant's shared pause, and ends the shared window: the
/// server's window resets when the pause ends, so the next one opens then. When no header ever said
/// the budget, the 429s of a window teach it: they are counted (`z`), and the window that opens after
/// the pause takes as budget the slots of this one the server admitted; the window's length is from
/// its start to the first 429's pause end, in whole seconds (as `Retry-After` counts, rounded up: the
/// span also holds the time before the server's window opened, which is less than a second).
/// Returns what the pause has left after the call, in ms.
pub(crate) const PAUSE: &str = r#"
local left = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if left < want then
  redis.call('SET', KEYS[1], '1', 'PX', want)
  left = want
end
local h = redis.call('HMGET', KEYS[2], 'g', 's', 'src', 'ig')
local gen = tonumber(ARGV[2])
if h[1] and h[3] ~= 'h' and gen > 0 and tonumber(h[1]) == gen then
  if tonumber(h[4]) ~= gen and h[2] then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local span = now + want - tonumber(h[2])
    redis.call('HSET', KEYS[2], 'ig', gen, 'z', 0, 'iw', math.max(1000, span - span % 1000))
  end
  redis.call('HINCRBY', KEYS[2], 'z', 1)
end
redis.call('HDEL', KEYS[2], 's')
return left
"#;
