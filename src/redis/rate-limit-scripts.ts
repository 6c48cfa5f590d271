/**
 * The two Lua scripts of `redisRateLimitStore()`: GCRA on one string key, and the exact sliding
 * window on a sorted set plus a small string of bookkeeping. Each does one whole `reserve` or
 * `cancel` atomically, with the arithmetic of `memoryRateLimitStore()` step for step (the same
 * float operations in the same order), so the two stores answer alike.
 *
 * Shared conventions:
 * - ARGV[1] is the operation (`r` reserve, `c` cancel), ARGV[2] the caller's clock reading, or ''
 *   for the server's (`TIME`, in ms with µs precision);
 * - numbers travel as decimal text; `inf` and `x` (none: minus infinity) stand for the infinities;
 * - numbers come back as `%.17g` text: a Lua number in a reply is truncated to an integer, and
 *   `tostring` keeps only 14 digits. Formatting costs ~1.7 µs a number on the server, so each
 *   script formats as few as it can (0 is written as is; GCRA stores its state packed in binary,
 *   and the window stores a key's last clock reading as the text it came as: the caller's
 *   decimal, or the server's `TIME` as "seconds:µs");
 * - every key gets a PX of "until it is back to a full bucket / an empty window" plus a second of
 *   slack, so an idle key expires and forgetting it loses nothing;
 * - each key carries an epoch (the server time it was created): a ticket of an earlier life of
 *   the key gives nothing back.
 */
import { defineScript } from './script.js'

const COMMON = `
local function num(s)
  if s == 'inf' then return math.huge end
  if s == 'x' then return -math.huge end
  return tonumber(s)
end
local function f(x)
  if x == 0 then return '0' end
  return string.format('%.17g', x)
end
local function clean(wait, now)
  local eps = math.max(1e-9, math.abs(now) * 1e-14)
  if wait > eps then return wait end
  return 0
end
local function ttl(until_, now)
  local ms = math.ceil(until_ - now)
  if ms ~= ms or ms < 0 then ms = 0 end
  return ms + 1000
end
local op = ARGV[1]
local server = ARGV[2] == ''
local t, now, nowText
if server then
  t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  nowText = t[1] .. ':' .. t[2]
else
  now = tonumber(ARGV[2])
  nowText = ARGV[2]
end
local function clock(s)
  local colon = string.find(s, ':', 1, true)
  if colon then return tonumber(string.sub(s, 1, colon - 1)) * 1000 + tonumber(string.sub(s, colon + 1)) / 1000 end
  return tonumber(s)
end
local function newEpoch()
  local e = t or redis.call('TIME')
  return e[1] .. '.' .. e[2]
end
`

/**
 * GCRA. Each key holds its state in binary, `struct.pack('>ddd', tat, last, shift)` followed by
 * the epoch text: packing a double is exact and costs a third of formatting one as `%.17g`, and
 * reading it back needs no pattern match (`last` is the key's last clock reading).
 * Reserve, a batch of n ≥ 1 reservations in order, on KEYS (one or several: a batch groups the
 * keys of one tick, on a standalone server): ARGV[3] = n, ARGV[4] = m, the number of parameter
 * sets, then 5 per set (cost, maxWaitMs, notBefore: absolute with the caller's clock, relative to
 * now with the server's; interval, tolerance), then per reservation the index of its key in KEYS,
 * the index of its set, and with the caller's clock its reading. A batch's reservations mostly
 * share one set, so each costs the server two numbers to read instead of seven.
 * Replies one string per reservation: "wait end shift epoch" when granted, "wait" when refused.
 * Cancel: KEYS[1]; ARGV[3..6] = end, shift, span, epoch of the ticket. Replies {}.
 */
export const gcraScript = defineScript(
  'rate-gcra',
  `${COMMON}
local states = {}
local function load(k)
  local s = states[k]
  if s then return s end
  local raw = redis.call('GET', KEYS[k])
  s = { raw = raw, tat = -math.huge, shift = 0, born = nil, last = nil, granted = false }
  if raw then
    s.tat, s.last, s.shift = struct.unpack('>ddd', raw)
    s.born = string.sub(raw, 25)
  end
  states[k] = s
  return s
end
-- A reading earlier than the key's last one shifts the state back with it; the key's clock is
-- then the reading (memory sets 'last = now' on every reading).
local function advance(s)
  if s.last and now < s.last then
    local step = now - s.last
    s.shift = s.shift + step
    s.tat = s.tat + step
  end
  s.last = now
end
local function save(k, s)
  redis.call('SET', KEYS[k], struct.pack('>ddd', s.tat, s.last, s.shift) .. s.born, 'PX', ttl(s.tat, s.last))
end
if op == 'c' then
  local s = load(1)
  if not s.raw or s.born ~= ARGV[6] then return {} end
  advance(s)
  local span = tonumber(ARGV[5])
  local later = s.tat - (tonumber(ARGV[3]) + s.shift - tonumber(ARGV[4]))
  s.tat = s.tat - math.min(span, math.max(0, span - later))
  save(1, s)
  return {}
end
local n, m = tonumber(ARGV[3]), tonumber(ARGV[4])
local sets = {}
for j = 1, m do
  local b = j * 5
  local cost = tonumber(ARGV[b])
  sets[j] = { maxWait = num(ARGV[b + 1]), nb = num(ARGV[b + 2]), span = cost * tonumber(ARGV[b + 3]), tolerance = tonumber(ARGV[b + 4]) }
end
local per = server and 2 or 3
local out, seen, touched = {}, {}, {}
for i = 0, n - 1 do
  local b = 5 + m * 5 + i * per
  local k = tonumber(ARGV[b])
  local p = sets[tonumber(ARGV[b + 1])]
  local s = load(k)
  if not seen[k] then
    seen[k] = true
    touched[#touched + 1] = k
  end
  if not server then now = tonumber(ARGV[b + 2]) end
  advance(s)
  local nb, span, tolerance = p.nb, p.span, p.tolerance
  if server and nb > -math.huge then nb = now + nb end
  local e = math.max(s.tat, now, nb + tolerance - span) + span
  local wait = clean(e - tolerance - now, now)
  if wait > p.maxWait then
    out[i + 1] = f(wait)
  else
    s.tat, s.granted = e, true
    s.born = s.born or newEpoch()
    out[i + 1] = f(wait) .. ' ' .. f(e) .. ' ' .. f(s.shift) .. ' ' .. s.born
  end
end
-- A refusal changes nothing on a key that had no state; any other key's clock moved.
for _, k in ipairs(touched) do
  local s = states[k]
  if s.granted or s.raw then save(k, s) end
end
return out
`,
)

/**
 * Sliding window. KEYS[1]: sorted set of entries, member "id:cost", score the entry's time minus
 * the key's shift; KEYS[2]: "last shift total seq epoch".
 * Reserve: ARGV[3..7] = cost, maxWaitMs, notBefore, limit, window. Replies {'1', wait, id, score,
 * epoch} or {'0', wait}.
 * Cancel: ARGV[3..6] = id, score, cost, epoch of the ticket. Replies {}.
 *
 * Bounded work: entries are read in batches growing from a few to 128 (no unpack of an unbounded reply). A reserve
 * prunes what left the window (each entry once), then finds the entry that must leave before
 * `cost` fits from whichever end needs fewer entries: from the oldest (as the memory store does)
 * when the excess is under half the limit, else from the newest, where at most `limit` entries are
 * read (and at most `limit` entries count in any window, which weights of 1 or more imply anyway).
 */
export const windowScript = defineScript(
  'rate-window',
  `${COMMON}
local EPS = 1e-9
local zkey, mkey = KEYS[1], KEYS[2]
local raw = redis.call('GET', mkey)
local shift, total, seq, born = 0, 0, 0, nil
if raw then
  local a, b, c, d, e = string.match(raw, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  local last = clock(a)
  shift, total, seq, born = tonumber(b), tonumber(c), tonumber(d), e
  if now < last then shift = shift + (now - last) end
end
local function costOf(member) return tonumber(string.match(member, ':(.*)$')) end
local function save(px)
  local v = nowText .. ' ' .. f(shift) .. ' ' .. f(total) .. ' ' .. seq .. ' ' .. born
  if px then
    redis.call('SET', mkey, v, 'PX', px)
    if redis.call('ZCARD', zkey) > 0 then redis.call('PEXPIRE', zkey, px) end
  else
    redis.call('SET', mkey, v, 'KEEPTTL')
  end
end
if op == 'c' then
  if not raw or born ~= ARGV[6] then return {} end
  local prefix = ARGV[3] .. ':'
  local found = {}
  if tonumber(ARGV[5]) > 0 then found = redis.call('ZRANGEBYSCORE', zkey, ARGV[4], ARGV[4]) end
  for _, m in ipairs(found) do
    if string.sub(m, 1, #prefix) == prefix then
      local tcost = tonumber(ARGV[5])
      local ecost = costOf(m) - tcost
      total = total - tcost
      redis.call('ZREM', zkey, m)
      if ecost <= EPS then
        total = total - ecost
      else
        redis.call('ZADD', zkey, ARGV[4], prefix .. f(ecost))
      end
      break
    end
  end
  save(nil)
  return {}
end
local cost, maxWait, nb = tonumber(ARGV[3]), num(ARGV[4]), num(ARGV[5])
local limit, window = tonumber(ARGV[6]), tonumber(ARGV[7])
if server and nb > -math.huge then nb = now + nb end
-- Prune: drop the entries that left the window, oldest first.
local removed, size = 0, 2
while true do
  local batch = redis.call('ZRANGE', zkey, removed, removed + size - 1, 'WITHSCORES')
  local stop = #batch < 2 * size
  size = math.min(size * 4, 128)
  for i = 1, #batch, 2 do
    if tonumber(batch[i + 1]) + shift + window <= now then
      total = total - costOf(batch[i])
      removed = removed + 1
    else
      stop = true
      break
    end
  end
  if stop then break end
end
if removed > 0 then redis.call('ZREMRANGEBYRANK', zkey, 0, removed - 1) end
local count = redis.call('ZCARD', zkey)
if count == 0 then total = 0 end
local latest, lastMember, lastScore = -math.huge, nil, nil
if count > 0 then
  local top = redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')
  lastMember, lastScore, latest = top[1], top[2], tonumber(top[2]) + shift
end
local floor = math.max(now, latest, nb)
-- The earliest time 'cost' more fits: when the entry found here has left the window.
local room = -math.huge
local excess = total + cost - limit
local function fromNewest()
  local sum, seen, size = 0, 0, 8
  while seen < count do
    local batch = redis.call('ZRANGE', zkey, -(seen + size), -(seen + 1), 'WITHSCORES')
    for i = #batch - 1, 1, -2 do
      local at = tonumber(batch[i + 1]) + shift + window
      if at <= floor then return -math.huge end
      sum = sum + costOf(batch[i])
      seen = seen + 1
      if sum + cost - limit > EPS or seen >= limit then return at end
    end
    if #batch < 2 * size then break end
    size = math.min(size * 4, 128)
  end
  return -math.huge
end
if excess > EPS then
  if excess <= limit / 2 then
    local freed, seen, done, size = 0, 0, false, 4
    while not done and seen < count and seen < limit do
      local batch = redis.call('ZRANGE', zkey, seen, seen + size - 1, 'WITHSCORES')
      for i = 1, #batch, 2 do
        freed = freed + costOf(batch[i])
        seen = seen + 1
        if freed >= excess - EPS then
          room = tonumber(batch[i + 1]) + shift + window
          done = true
          break
        end
        if seen >= limit then break end
      end
      if #batch < 2 * size then break end
      size = math.min(size * 4, 128)
    end
    if not done and seen >= limit then room = fromNewest() end
  else
    room = fromNewest()
  end
elseif count >= limit then
  -- Light weights fit, but no more than 'limit' entries in a window (bounds the work).
  room = fromNewest()
end
local at = math.max(floor, room)
local wait = clean(at - now, now)
if wait > maxWait then
  if raw then save(ttl(latest + window, now)) end
  return {'0', f(wait)}
end
if wait == 0 then at = now end
local id, score
if lastMember and latest == at then
  id = string.match(lastMember, '^([^:]*):')
  score = lastScore
  redis.call('ZREM', zkey, lastMember)
  redis.call('ZADD', zkey, score, id .. ':' .. f(costOf(lastMember) + cost))
else
  seq = seq + 1
  id = tostring(seq)
  score = f(at - shift)
  redis.call('ZADD', zkey, score, id .. ':' .. f(cost))
end
total = total + cost
born = born or newEpoch()
save(ttl(at + window, now))
return {'1', f(wait), id, score, born}
`,
)
