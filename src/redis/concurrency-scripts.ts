/**
 * The semaphore's Lua scripts. One sorted set per permit key: member = holder, score = the end of
 * its lease (ms). Each script reads the clock once (the server's `TIME`, or the caller's `now`
 * when given) and touches only the keys it is passed, which share one hash tag, so it runs on a
 * cluster too. Every write sets the key's PX to its last lease end, so an idle key expires.
 * Numbers come back as strings: Lua numbers are truncated to integers in replies.
 */
import { defineScript } from './script.js'

/**
 * `now` from an argument ('' = the server's clock), and the TTL helper every writing script needs:
 * PX = the last lease end plus `slack` ms (0 on the server's clock; with the caller's, which need
 * not run at real speed, a margin so a key never expires while its leases are alive to the caller).
 */
const PRELUDE = `
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local function expire(key, now, slack)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if not last[2] then return end
  local ends = tonumber(last[2])
  if ends == nil or ends == math.huge then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIRE', key, math.max(1, math.ceil(ends - now + slack)))
  end
end
local function leaseEnd(lease, now)
  if lease < 0 then return '+inf' end
  return now + lease
end
`

/**
 * KEYS: one set per permit. ARGV: holder, lease ms (-1: none), now ('' = server), TTL slack ms,
 * then each key's limit (-1: none). All or nothing: expired leases are dropped, every key is checked, then
 * the holder is added under every key. A holder already present does not count against a limit,
 * so an acquire applied twice (a re-sent command) takes one permit, not two.
 * Reply: {'1'}, or {'0', ms until the earliest lease end of a refusing key (-1: unknown)}.
 */
export const ACQUIRE = defineScript(
  'fanout-semaphore-acquire',
  `${PRELUDE}
local holder = ARGV[1]
local lease = tonumber(ARGV[2])
local now = clock(ARGV[3])
local slack = tonumber(ARGV[4])
local retry = -1
local busy = false
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local limit = tonumber(ARGV[4 + i])
  if limit >= 0 and not redis.call('ZSCORE', key, holder) and redis.call('ZCARD', key) >= limit then
    busy = true
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local wait = tonumber(first[2]) - now
      if wait < math.huge and (retry < 0 or wait < retry) then retry = wait end
    end
  end
end
if busy then return {'0', tostring(retry)} end
local score = leaseEnd(lease, now)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, score, holder)
  expire(key, now, slack)
end
return {'1'}
`,
)

/**
 * KEYS: the holder's sets. ARGV: holder, lease ms (-1: none), now ('' = server), TTL slack ms. Extends the
 * holder's lease under every key where it is still present and unexpired. Reply '1' when it was
 * under all of them, else '0' (the lease was lost: expired, and perhaps taken by another).
 */
export const RENEW = defineScript(
  'fanout-semaphore-renew',
  `${PRELUDE}
local holder = ARGV[1]
local lease = tonumber(ARGV[2])
local now = clock(ARGV[3])
local slack = tonumber(ARGV[4])
local kept = '1'
local score = leaseEnd(lease, now)
for _, key in ipairs(KEYS) do
  local ends = redis.call('ZSCORE', key, holder)
  if ends and tonumber(ends) > now then
    redis.call('ZADD', key, 'XX', score, holder)
    expire(key, now, slack)
  else
    kept = '0'
    if ends then redis.call('ZREM', key, holder) end
  end
end
return kept
`,
)

/**
 * KEYS: the holder's sets. ARGV: holder, channel, then each key's permit name. Removes the holder
 * and, when it held anything, publishes the names it freed (a JSON array) so waiters elsewhere try
 * again at once. Reply: how many it freed.
 */
export const RELEASE = defineScript(
  'fanout-semaphore-release',
  `
local freed = {}
for i, key in ipairs(KEYS) do
  if redis.call('ZREM', key, ARGV[1]) == 1 then freed[#freed + 1] = ARGV[2 + i] end
end
if #freed > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode(freed)) end
return tostring(#freed)
`,
)
