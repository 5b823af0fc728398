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

# An answer saying the window is full (``x-mbx-used-remain-limit: 0``) holds the budget only
# when another client used the window: the rule of ``_limit.RateBudget._another_client_used``,
# with the store's count for "ours": every slot in flight or answered within a hold, whichever
# participant of the account took it (the store sees them all). Fewer than the capacity:
# someone outside the store took the rest, so ``blocked`` holds everyone until the window
# rolls. As many: TAKE already grants nothing until one of them leaves the window, a hold after
# its answer (so after it left the exchange's window, counted from its arrival); holding a
# whole window from this answer as well would cost, far from the exchange, a round trip per
# window for every process of the account. That count must stay: RELEASE leaves a ``full``
# mark (until:capacity), and a slot leaving it early (given back unsent: a burst's unused
# part; a lease run out) re-checks it, holding after all if it no longer reaches the capacity.
# A capacity below the exchange's limit cannot tell a window the account filled from one others
# filled past it: a 429 that follows is paused and probed like any other.
# KEYS[1..3] are flying, window, state in every script that uses it.
_FULL = """
local function counted()
  local after = string.format('(%.0f', now)
  local flying = redis.call('ZCOUNT', KEYS[1], after, '+inf')
  return flying + redis.call('ZCOUNT', KEYS[2], after, '+inf')
end
local function recount()
  local mark = redis.call('HGET', KEYS[3], 'full')
  if not mark then return end
  local till, cap = string.match(mark, '^(%d+):(%d+)$')
  till, cap = tonumber(till), tonumber(cap)
  if now < till then
    if counted() >= cap then return end  -- still covered by the count
    if till > (tonumber(redis.call('HGET', KEYS[3], 'blocked')) or 0) then
      redis.call('HSET', KEYS[3], 'blocked', till)
    end
  end
  redis.call('HDEL', KEYS[3], 'full')
end
"""

# KEYS: flying, window, state, presence, epoch. ARGV: participant, token base, k, capacity,
# period_us, margin_us, lease_us, ttl_ms, presence_ttl_us, a fresh epoch id, need, grace_us,
# first (1: a panic of this participant waits; absent or 0: not), the wake channel.
# Grants up to k slots at once (tokens base.1 .. base.n): a burst costs one round trip. Of the
# k, ``need`` have callers waiting (the rest is a burst taken whole): only fewer than those
# marks the participant as waiting.
# Returns {granted, now_us, wait_us, epoch, participants, capacity, period_us}: wait_us is the
# earliest moment anything can change (a pause's end, the next window expiry or lease end); a
# release publishes on the channel, so a waiter never sleeps to a lease's end needlessly.
#
# - epoch: created when missing (a new account, or a store that lost its keys: FLUSHALL, a
#   restart without persistence, eviction) or written by another server process (its run_id:
#   a replica promoted by a failover, a restart from a snapshot; either may lack the last
#   writes). What the lost writes counted is unknown, so nobody is granted anything until one
#   window after the epoch was born, plus ``grace``: the time a participant that fell back
#   meanwhile takes to come back and put what it sent into the new epoch.
# - presence: taking counts the taker as a participant at once (newcomers are seen in one
#   round trip), and answers how many share the account.
# - state fields ``r:<participant>`` (declared capacity:period) set the budget's rate, the
#   lowest of the live participants'; ``w:<participant>`` (since:last refusal) marks who
#   waits: while others wait, nobody holds more than its share of the capacity, and the
#   longest waiting come back first.
# - ``f:<participant>`` (last refusal) marks a panic waiting there: it goes first. While one
#   waits elsewhere, nobody else is granted anything (they sleep until the panic's grant
#   publishes on the wake channel); a panic takes what is free, whatever the shares. The mark
#   goes when its take is granted or it gives up (GIVE_BACK), and counts only while refreshed
#   within two windows and while its participant is present.
TAKE = (
    _NOW
    + _KEEP
    + _FULL
    + """
local me = ARGV[1]
local first = ARGV[13] == '1'
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
-- Evictions since the epoch was stamped: under a volatile-* policy the epoch (no expiry) is
-- never evicted while the budget's keys (with one) are, so the count is what tells.
local ev = string.match(redis.call('INFO', 'stats'), 'evicted_keys:(%d+)') or '0'
local ep = redis.call('HMGET', KEYS[5], 'id', 'born', 'run', 'ev')
if not ep[1] or ep[3] ~= run or (ep[4] and ep[4] ~= ev) then
  ep = {ARGV[10], now}
  redis.call('HSET', KEYS[5], 'id', ARGV[10], 'born', now, 'run', run, 'ev', ev)
elseif not ep[4] then
  redis.call('HSET', KEYS[5], 'ev', ev)
end
local pttl = tonumber(ARGV[9])
redis.call('ZADD', KEYS[4], now + pttl, me)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('PEXPIRE', KEYS[4], math.floor(pttl / 1000) + 1000)
local present = redis.call('ZCARD', KEYS[4])
if redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) > 0 then recount() end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local cap, per = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HSET', KEYS[3], 'r:' .. me, ARGV[4] .. ':' .. ARGV[5])
local fields = redis.call('HGETALL', KEYS[3])
local st, waits, mine_since, panics = {}, {}, nil, {}
for i = 1, #fields, 2 do
  local f, v = fields[i], fields[i + 1]
  local kind, who = string.sub(f, 1, 2), string.sub(f, 3)
  if kind == 'r:' or kind == 'w:' or kind == 'f:' then
    if not redis.call('ZSCORE', KEYS[4], who) then
      redis.call('HDEL', KEYS[3], f)  -- a participant gone: its rate and wait no longer count
    elseif kind == 'r:' then
      local c, p = string.match(v, '^(%d+):(%d+)$')
      c, p = tonumber(c), tonumber(p)
      if c * per < cap * p then cap, per = c, p end
    elseif kind == 'f:' then
      if who ~= me then panics[#panics + 1] = {f, tonumber(v)} end
    else
      local since, last = string.match(v, '^(%d+):(%d+)$')
      if who ~= me then
        waits[#waits + 1] = {f, tonumber(since), tonumber(last)}
      else
        mine_since = tonumber(since)
      end
    end
  else
    st[f] = v
  end
end
local hold = per + tonumber(ARGV[6])
redis.call('HSET', KEYS[3], 'hold', hold)
local result = {0, now, 0, ep[1], present, cap, per}
local function refuse(wait)
  redis.call('HSET', KEYS[3], 'w:' .. me, string.format('%.0f:%.0f', mine_since or now, now))
  if first then redis.call('HSET', KEYS[3], 'f:' .. me, string.format('%.0f', now)) end
  keep(ARGV[8])
  result[3] = math.max(wait, 1)
  return result
end
local reborn = tonumber(ep[2]) + hold + tonumber(ARGV[12])
if now < reborn then return refuse(reborn - now) end
local blocked = tonumber(st['blocked']) or 0
if now < blocked then return refuse(blocked - now) end
local flying = redis.call('ZCARD', KEYS[1])
local nextfree = nil
if flying > 0 then
  nextfree = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
end
local done = redis.call('ZCARD', KEYS[2])
if done > 0 then
  local expiry = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
  if nextfree == nil or expiry < nextfree then nextfree = expiry end
end
local n = math.min(tonumber(ARGV[3]), cap - flying - done)
if st['probing'] == '1' then n = math.min(n, 1 - flying) end
-- A panic waiting elsewhere (refused within two windows) goes first.
local panicking = false
for _, p in ipairs(panics) do
  if p[2] >= now - 2 * hold then
    panicking = true
  else
    redis.call('HDEL', KEYS[3], p[1])
  end
end
-- Others waiting (refused within two windows): at most a fair share of the capacity each.
local others, ahead = 0, 0
for _, w in ipairs(waits) do
  if w[3] >= now - 2 * hold then
    others = others + 1
    if mine_since == nil or w[2] < mine_since then ahead = ahead + 1 end
  else
    redis.call('HDEL', KEYS[3], w[1])
  end
end
if others > 0 and n > 0 and not first then
  local mine, prefix = 0, me .. ':'
  for _, key in ipairs({KEYS[1], KEYS[2]}) do
    for _, token in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if string.sub(token, 1, #prefix) == prefix then mine = mine + 1 end
    end
  end
  n = math.min(n, math.ceil(cap / (others + 1)) - mine)
end
if panicking and not first then
  -- Woken by the panic's grant; the mark's life bounds the sleep if it never comes.
  return refuse(2 * hold)
end
if n <= 0 then
  -- Those who waited longer take the next slots: come back at the change after theirs, not
  -- all at once at the first (one take each, all but one refused).
  local at = nextfree or (now + hold)
  if ahead > 0 and not first then
    local got = redis.call('ZRANGE', KEYS[2], ahead, ahead, 'WITHSCORES')
    if got[2] then at = math.max(at, tonumber(got[2])) end
  end
  return refuse(at - now)
end
for i = 1, n do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[7]), ARGV[2] .. '.' .. i)
end
result[1] = n
if n < tonumber(ARGV[11]) then return refuse((nextfree or now) - now) end
redis.call('HDEL', KEYS[3], 'w:' .. me)
if redis.call('HDEL', KEYS[3], 'f:' .. me) == 1 and ARGV[14] then
  redis.call('PUBLISH', ARGV[14], me)  -- the others waited for this panic: their turn now
end
keep(ARGV[8])
return result
"""
)

# KEYS: flying, window, state, wake. ARGV: token, hold_us (period + margin; the budget's own
# hold when longer: its rate may be a slower participant's), throttled (0/1),
# exhausted (0/1: x-mbx-used-remain-limit said 0), cooldown_us, max_cooldown_us, ttl_ms,
# publisher, capacity (the releaser's: slots per period).
# Returns {fresh_429, pause_us, woke}. The member is counted in the window even if its lease
# had already run out: the request did arrive. It wakes the waiters (publishes) only when
# they sleep past its expiry: when the window was empty, or a probe ended. An exhausted window
# holds everyone only when another client used it (see _FULL).
RELEASE = (
    _NOW
    + _KEEP
    + _FULL
    + """
local hold = math.max(tonumber(ARGV[2]), tonumber(redis.call('HGET', KEYS[3], 'hold')) or 0)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
-- Waiters sleep until the earliest window expiry: one already there comes before this one.
local wake = redis.call('ZCARD', KEYS[2]) == 0
redis.call('ZADD', KEYS[2], now + hold, ARGV[1])
local st = redis.call('HMGET', KEYS[3], 'blocked', 'probing', 'strikes')
local blocked = tonumber(st[1]) or 0
local strikes = tonumber(st[3]) or 0
local fresh, pause = 0, 0
if ARGV[4] == '1' and ARGV[3] ~= '1' and now + hold > blocked then
  if counted() < tonumber(ARGV[9]) then
    blocked = now + hold
    redis.call('HSET', KEYS[3], 'blocked', blocked)
  else  -- the account's own count holds it, while that count stays
    redis.call('HSET', KEYS[3], 'full', string.format('%.0f:%d', now + hold, ARGV[9]))
  end
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
  wake = true  -- the probe answered: no longer one at a time
end
keep(ARGV[7])
if wake then redis.call('PUBLISH', KEYS[4], ARGV[8]) end
return {fresh, pause, wake and 1 or 0}
"""
)

# KEYS: flying, window, state, wake. ARGV: publisher (the participant), tokens. The requests
# never left: nothing to count (a full window their count covered may hold now: _FULL). The
# participant no longer waits (it asks again if it does): without tokens, this is how it says
# it gave up waiting.
GIVE_BACK = (
    _NOW
    + _FULL
    + """
local gone = 0
for i = 2, #ARGV do gone = gone + redis.call('ZREM', KEYS[1], ARGV[i]) end
if gone > 0 then recount() end
redis.call('HDEL', KEYS[3], 'w:' .. ARGV[1], 'f:' .. ARGV[1])
redis.call('PUBLISH', KEYS[4], ARGV[1])
return 0
"""
)

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
