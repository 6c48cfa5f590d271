/**
 * fanout's own Lua, next to BullMQ's. Each runs in one step on the server, so a dedupe answer, a
 * dead-letter record and its cap, or a cancellation record cannot interleave with another
 * process's. The names carry a version: a changed script gets a new name, never a stale SHA.
 */
import type { FanoutScript } from './producer.js'

/**
 * Runs right behind BullMQ's add, on the same connection: answers 0 when the stored job's data
 * begins with this call's nonce (this add wrote it: the name is recorded and a cancellation of
 * the id forgotten), 1 when another add wrote it, -1 when the job is not there (the add has not
 * run yet: ask again once it has).
 * KEYS: job key, names set, cancelled hash, cancelled order. ARGV: name, id, data prefix.
 */
export const ADDED: FanoutScript = {
  name: 'fanoutAdded1',
  keys: 4,
  lua: `
local data = redis.call('HGET', KEYS[1], 'data')
if not data then return -1 end
if string.sub(data, 1, string.len(ARGV[3])) ~= ARGV[3] then return 1 end
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('HDEL', KEYS[3], ARGV[2]) == 1 then redis.call('ZREM', KEYS[4], ARGV[2]) end
return 0`,
}

/**
 * A bounded record (dead letter or cancellation): the hash holds id → JSON, the zset orders ids
 * by time; past the cap the oldest go.
 * KEYS: records hash, order zset. ARGV: id, JSON, epoch ms, cap.
 */
export const RECORD: FanoutScript = {
  name: 'fanoutRecord1',
  keys: 2,
  lua: `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 1`,
}

/**
 * Finds an id under any name enqueued with this prefix: the BullMQ job first, then a dead-letter
 * record, then a cancellation record. Answers {kind, name[, record]} or false.
 * KEYS: names set. ARGV: prefix, BullMQ job id, fanout id.
 */
export const LOCATE: FanoutScript = {
  name: 'fanoutLocate1',
  keys: 1,
  lua: `
local names = redis.call('SMEMBERS', KEYS[1])
for _, name in ipairs(names) do
  if redis.call('EXISTS', ARGV[1] .. ':' .. name .. ':' .. ARGV[2]) == 1 then return {'job', name} end
end
for _, name in ipairs(names) do
  local base = ARGV[1] .. ':' .. name .. ':fanout:'
  local dead = redis.call('HGET', base .. 'dead', ARGV[3])
  if dead then return {'dead', name, dead} end
  local cancelled = redis.call('HGET', base .. 'cancelled', ARGV[3])
  if cancelled then return {'cancelled', name, cancelled} end
end
return false`,
}

/** Drops records by id. KEYS: records hash, order zset. ARGV: ids. */
export const FORGET: FanoutScript = {
  name: 'fanoutForget1',
  keys: 2,
  lua: `
redis.call('ZREM', KEYS[2], unpack(ARGV))
return redis.call('HDEL', KEYS[1], unpack(ARGV))`,
}
