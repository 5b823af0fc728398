"""The Lua scripts of the Redis budget: each is one atomic step on one budget's keys.

Time is Redis's own clock (``TIME``, in microseconds), so the hosts' clocks never matter.
A budget is three keys and a channel:

- ``flying``: ZSET, one member per slot in flight, scored by its lease end (a slot whose
  holder died frees itself then);
- ``window``: ZSET, one member per finished request, scored by when it leaves the window
  (its answer + period + margin);
- ``state``: HASH, ``blocked`` (no slot before this time: a 429 pause or an exhausted
  window), ``probing`` (after a 429: one request in flight at a time), ``strikes``;
- ``wake``: the channel a release or give-back publishes on (the publisher's id), so waiters
  elsewhere re-check at once.

The rules are those of ``_limit.RateBudget.poll`` and ``release``, line for line.
"""

from __future__ import annotations

_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

_KEEP = """
local function keep(ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
"""

# KEYS: flying, window, state. ARGV: token, capacity, lease_us, ttl_ms.
# Returns {granted, now_us, wait_us}: wait_us is the earliest moment anything can change
# (the pause's end, the next window expiry, or the next lease end); a release publishes on the
# channel, so a waiter never sleeps to a lease's end when an answer comes sooner.
TAKE = (
    _NOW
    + _KEEP
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local st = redis.call('HMGET', KEYS[3], 'blocked', 'probing')
local blocked = tonumber(st[1]) or 0
if now < blocked then return {0, now, blocked - now} end
local flying = redis.call('ZCARD', KEYS[1])
local nextfree = nil
if flying > 0 then
  nextfree = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if st[2] == '1' then return {0, now, nextfree - now} end
end
local done = redis.call('ZCARD', KEYS[2])
if flying + done < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  keep(ARGV[4])
  return {1, now, 0}
end
if done > 0 then
  local expiry = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
  if nextfree == nil or expiry < nextfree then nextfree = expiry end
end
return {0, now, nextfree - now}
"""
)

# KEYS: flying, window, state, wake. ARGV: token, hold_us (period + margin), throttled (0/1),
# exhausted (0/1: x-mbx-used-remain-limit said 0), cooldown_us, max_cooldown_us, ttl_ms,
# publisher.
# Returns {fresh_429, pause_us}. The member is counted in the window even if its lease had
# already run out: the request did arrive.
RELEASE = (
    _NOW
    + _KEEP
    + """
local hold = tonumber(ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now + hold, ARGV[1])
local st = redis.call('HMGET', KEYS[3], 'blocked', 'probing', 'strikes')
local blocked = tonumber(st[1]) or 0
local strikes = tonumber(st[3]) or 0
local fresh, pause = 0, 0
if ARGV[4] == '1' and ARGV[3] ~= '1' and now + hold > blocked then
  blocked = now + hold
  redis.call('HSET', KEYS[3], 'blocked', blocked)
end
if ARGV[3] == '1' then
  -- A 429 landing during a pause answers a request sent before it: the same strike.
  if now >= blocked or strikes == 0 then
    fresh = 1
    strikes = strikes + 1
  end
  pause = math.min(tonumber(ARGV[6]), tonumber(ARGV[5]) * 2 ^ (strikes - 1))
  if now + pause > blocked then blocked = now + pause end
  redis.call('HSET', KEYS[3], 'blocked', blocked, 'probing', '1', 'strikes', strikes)
elseif st[2] == '1' then
  redis.call('HSET', KEYS[3], 'probing', '0', 'strikes', 0)
end
keep(ARGV[7])
redis.call('PUBLISH', KEYS[4], ARGV[8])
return {fresh, pause}
"""
)

# KEYS: flying, window, state, wake. ARGV: token, publisher. The request never left: nothing
# to count.
GIVE_BACK = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[2])
return 0
"""

# After an outage, what this participant used on its own goes into the shared budget.
# KEYS: flying, window, state, wake. ARGV: lease_us, ttl_ms, paused_us, publisher, n, then n
# tokens in flight, then (token, remaining_us) pairs still in the window.
SEED = (
    _NOW
    + _KEEP
    + """
local n = tonumber(ARGV[5])
for i = 1, n do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[5 + i])
end
local i = 6 + n
while i < #ARGV do
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[i + 1]), ARGV[i])
  i = i + 2
end
local paused = tonumber(ARGV[3])
if paused > 0 then
  local blocked = tonumber(redis.call('HGET', KEYS[3], 'blocked')) or 0
  if now + paused > blocked then blocked = now + paused end
  redis.call('HSET', KEYS[3], 'blocked', blocked, 'probing', '1')
end
keep(ARGV[2])
redis.call('PUBLISH', KEYS[4], ARGV[4])
return 0
"""
)

# KEYS: presence. ARGV: participant, ttl_us, ttl_ms, join (1) or leave (0).
# Returns how many participants share the account now.
PRESENCE = (
    _NOW
    + """
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('ZCARD', KEYS[1])
"""
)
