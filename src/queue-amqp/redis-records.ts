/**
 * `redisRecordStore({ redis })`: job records in Redis, shared by every producer and consumer
 * process, on fanout's `RedisConnection` (node-redis or ioredis). Each change is one Lua script, so
 * create-if-absent, start, settle, cancel and revive are atomic on the server. A record is one
 * JSON string; the job's result and errors stay opaque strings inside it (Lua's cjson would turn
 * an empty array into an object).
 *
 * Keys, all under one hash tag so a cluster takes every script: `{prefix}:job:<id>` and the dead
 * index `{prefix}:dead:<name>` (a sorted set by time of death; the scripts build it from the
 * record's name, under the same hash tag). Final records other than dead ones
 * expire after `retention`; dead ones stay until requeued. A running job's cancel is published on
 * `{prefix}:cancel`. Pub/sub delivers at most once: when the subscriber reconnects, consumers
 * re-read their running jobs' records (`onResync`) for a cancel they missed meanwhile.
 */
import { checkDuration, checkKnownKeys, show, snapshot } from '../core/validate.js'
import { InvalidOptionError } from '../core/errors.js'
import type { RedisConnection } from '../redis/connection.js'
import { defineScript } from '../redis/script.js'
import type { JobData, JobErrorInfo, JobState } from '../queue/job-queue.js'
import type { CancelAnswer, JobRecord, JobRecordStore, RecordUpdate } from './records.js'
import { scriptBatch } from './script-batch.js'

export interface RedisRecordStoreOptions {
  readonly redis: RedisConnection
  /** Key prefix: 1–64 letters, digits or ':_.-' (default `fanout:jobs`). */
  readonly prefix?: string
  /** How long completed and failed records are kept, ms (default one day). */
  readonly retention?: number
}

/** The stored form: nulls as -1 or '', JSON values as strings. */
interface Stored {
  id: string
  name: string
  state: JobState
  attemptsMade: number
  pending: number
  runAt: number
  lastError: string
  result: string
  error: string
  diedAt: number
  cancel: number
}

const FINAL = `local final = { completed = true, failed = true, dead = true }`

const CREATE = defineScript(
  'jobs-create',
  `if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end
return 0`,
)
const GET = defineScript('jobs-get', `return redis.call('GET', KEYS[1])`)
const REMOVE = defineScript('jobs-remove', `return redis.call('DEL', KEYS[1])`)
// START and UPDATE take many jobs in one call (see script-batch.ts): each job in a pcall, so a
// record that fails (not JSON) fails its own job only and answers -1. START is sent without the
// fallback record (a record is missing only after a rolled-back publish or its retention): -2
// asks for it, and that job's start is sent again with it. The jobs travel as one JSON array
// argument (ids, and the patches as objects) rather than three arguments a job: fewer strings
// for the client to write and the server to parse. KEYS[1], the first job's key, names the slot
// (every key shares the hash tag); the others are built from the prefix, as DEAD does.
const START = defineScript(
  'jobs-start-many',
  `${FINAL}
local function start(key, pending, fallback)
  local raw = redis.call('GET', key)
  if not raw then
    if fallback == '' then return -2 end
    raw = fallback
  end
  local r = cjson.decode(raw)
  if final[r.state] or pending < r.pending then return 0 end
  if r.cancel == 1 then
    r.state = 'failed'
    r.error = ARGV[1]
    r.cancel = 0
    redis.call('SET', key, cjson.encode(r), 'PX', ARGV[2])
    return 0
  end
  r.state = 'running'
  r.attemptsMade = r.attemptsMade + 1
  r.runAt = -1
  r.cancel = 0
  redis.call('SET', key, cjson.encode(r))
  return r.attemptsMade
end
local jobs, out = cjson.decode(ARGV[4]), {}
for i = 1, #jobs, 3 do
  local ok, answer = pcall(start, ARGV[3] .. jobs[i], jobs[i + 1], jobs[i + 2])
  if ok then out[#out + 1] = answer else out[#out + 1] = -1 end
end
return out`,
)
const UPDATE = defineScript(
  'jobs-update-many',
  `${FINAL}
local function update(key, patch)
  local raw = redis.call('GET', key)
  if not raw then return 0 end
  local r = cjson.decode(raw)
  if final[r.state] then return 0 end
  -- A settlement from a run the broker took back: a newer run holds the job now.
  local run = patch.run
  patch.run = nil
  if run and (r.state ~= 'running' or r.attemptsMade ~= run) then return 0 end
  for k, v in pairs(patch) do r[k] = v end
  if r.state ~= 'running' then r.cancel = 0 end
  redis.call('SET', key, cjson.encode(r))
  if r.state == 'dead' then
    redis.call('ZADD', ARGV[2] .. r.name, r.diedAt, r.id)
  elseif final[r.state] then
    redis.call('PEXPIRE', key, ARGV[1])
  end
  return 1
end
local jobs, out = cjson.decode(ARGV[4]), {}
for i = 1, #jobs, 2 do
  local ok, answer = pcall(update, ARGV[3] .. jobs[i], jobs[i + 1])
  if ok then out[#out + 1] = answer else out[#out + 1] = -1 end
end
return out`,
)
const CANCEL = defineScript(
  'jobs-cancel',
  `local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local r = cjson.decode(raw)
if r.state == 'queued' then
  r.state = 'failed'
  r.error = ARGV[1]
  r.runAt = -1
  redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[2])
  return 1
end
if r.state ~= 'running' then return 0 end
r.cancel = 1
redis.call('SET', KEYS[1], cjson.encode(r))
redis.call('PUBLISH', ARGV[3], r.id)
return 2`,
)
const DEAD = defineScript(
  'jobs-dead',
  `local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then table.insert(out, raw) else redis.call('ZREM', KEYS[1], id) end
end
return out`,
)
const REVIVE = defineScript(
  'jobs-revive',
  `local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local r = cjson.decode(raw)
if r.state ~= 'dead' then return 0 end
redis.call('ZREM', ARGV[2] .. r.name, r.id)
r.state = 'queued'
r.attemptsMade = 0
r.lastError = ''
r.pending = tonumber(ARGV[1])
r.error = ''
r.diedAt = -1
r.runAt = -1
redis.call('SET', KEYS[1], cjson.encode(r))
return 1`,
)

const WHERE = 'redisRecordStore()'
const PREFIX = /^[\w:.-]{1,64}$/
const ABORTED_TEXT = JSON.stringify({ code: 'FANOUT_ABORTED', status: null })

const errorText = (e: JobErrorInfo | null): string =>
  e === null ? '' : JSON.stringify({ code: e.code, status: e.status })
const errorOf = (text: string): JobErrorInfo | null =>
  text === '' ? null : (JSON.parse(text) as JobErrorInfo)
const nullable = (n: number): number | null => (n < 0 ? null : n)

function toStored(r: JobRecord): Stored {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    attemptsMade: r.attemptsMade,
    pending: r.pending,
    runAt: r.runAt ?? -1,
    lastError: errorText(r.lastError),
    result: JSON.stringify(r.result),
    error: errorText(r.error),
    diedAt: r.diedAt ?? -1,
    cancel: r.cancelRequested ? 1 : 0,
  }
}

function fromStored(text: string): JobRecord {
  const s = JSON.parse(text) as Stored
  return {
    id: String(s.id),
    name: String(s.name),
    state: s.state,
    attemptsMade: s.attemptsMade,
    pending: s.pending,
    runAt: nullable(s.runAt),
    lastError: errorOf(s.lastError),
    result: s.result === '' ? null : (JSON.parse(s.result) as JobData),
    error: errorOf(s.error),
    diedAt: nullable(s.diedAt),
    cancelRequested: s.cancel === 1,
  }
}

function patchOf(update: RecordUpdate): Partial<Stored> {
  switch (update.state) {
    case 'queued':
      return {
        state: 'queued',
        runAt: update.runAt,
        lastError: errorText(update.lastError),
        pending: update.pending,
      }
    case 'completed':
      return { state: 'completed', result: JSON.stringify(update.result), runAt: -1 }
    case 'failed':
      return { state: 'failed', error: errorText(update.error), runAt: -1 }
    case 'dead':
      return { state: 'dead', error: errorText(update.error), diedAt: update.diedAt, runAt: -1 }
  }
}

const BATCH = { maxInFlight: 2, maxItems: 200 }
/** START's answer for a missing record sent without its fallback. */
const MISSING = -2

/** A batch script's reply as one answer per job: -1 (that job's record failed) as an error. */
function answers(reply: unknown, count: number): (number | Error)[] {
  if (!Array.isArray(reply) || reply.length !== count)
    throw new Error(`${WHERE}: a batch script answered ${show(reply)} for ${count} jobs`)
  return reply.map((answer) =>
    Number(answer) === -1
      ? new Error(`${WHERE}: the job's record could not be read`)
      : Number(answer),
  )
}

export function redisRecordStore(options: RedisRecordStoreOptions): JobRecordStore {
  const o = snapshot(WHERE, options)
  checkKnownKeys(WHERE, o, ['redis', 'prefix', 'retention'])
  const redis = o.redis
  if (typeof redis?.evalScript !== 'function' || typeof redis.subscribe !== 'function')
    throw new InvalidOptionError(
      `${WHERE}: \`redis\` must be a RedisConnection (fromNodeRedis(client) or fromIoredis(client)), got ${show(redis)}.`,
    )
  const prefix = o.prefix ?? 'fanout:jobs'
  if (typeof prefix !== 'string' || !PREFIX.test(prefix))
    throw new InvalidOptionError(
      `${WHERE}: \`prefix\` must be 1–64 letters, digits or ':_.-', got ${show(prefix)}.`,
    )
  const retention =
    o.retention === undefined ? 86_400_000 : checkDuration(WHERE, 'retention', o.retention)
  const tag = `{${prefix}}`
  const jobKey = (id: string): string => `${tag}:job:${id}`
  const deadKey = (name: string): string => `${tag}:dead:${name}`
  const channel = `${tag}:cancel`
  const listeners = new Set<(id: string) => void>()
  let unsubscribe: Promise<() => Promise<void>> | undefined

  const listen = (): void => {
    if (unsubscribe !== undefined) return
    unsubscribe = redis.subscribe(channel, (id) => {
      for (const listener of [...listeners]) listener(id)
    })
    unsubscribe.catch(() => {
      unsubscribe = undefined
    })
  }

  // A consumer's starts and settlements, many jobs a script (see script-batch.ts).
  const startMany = scriptBatch<{ id: string; pending: number; fallback: string }, number>(
    async (items) => {
      const jobs: (string | number)[] = []
      for (const item of items) jobs.push(item.id, item.pending, item.fallback)
      const args = [ABORTED_TEXT, retention, jobKey(''), JSON.stringify(jobs)]
      return answers(await redis.evalScript(START, [jobKey(items[0]!.id)], args), items.length)
    },
    BATCH,
  )
  const updateMany = scriptBatch<{ id: string; patch: Partial<Stored> & { run?: number } }, number>(
    async (items) => {
      const jobs: (string | (Partial<Stored> & { run?: number }))[] = []
      for (const item of items) jobs.push(item.id, item.patch)
      const args = [retention, deadKey(''), jobKey(''), JSON.stringify(jobs)]
      return answers(await redis.evalScript(UPDATE, [jobKey(items[0]!.id)], args), items.length)
    },
    BATCH,
  )

  return {
    async create(record) {
      return (
        (await redis.evalScript(
          CREATE,
          [jobKey(record.id)],
          [JSON.stringify(toStored(record))],
        )) === 1
      )
    },
    async get(id) {
      const raw = await redis.evalScript(GET, [jobKey(id)], [])
      return typeof raw === 'string' ? fromStored(raw) : undefined
    },
    async remove(id) {
      await redis.evalScript(REMOVE, [jobKey(id)], [])
    },
    async start(id, pending, fallback) {
      let attempt = await startMany({ id, pending, fallback: '' })
      if (attempt === MISSING)
        attempt = await startMany({ id, pending, fallback: JSON.stringify(toStored(fallback)) })
      return attempt > 0 ? { run: true, attempt } : { run: false }
    },
    async update(id, update, run) {
      const patch = patchOf(update)
      await updateMany({ id, patch: run === undefined ? patch : { ...patch, run } })
    },
    async cancel(id): Promise<CancelAnswer> {
      const reply = Number(
        await redis.evalScript(CANCEL, [jobKey(id)], [ABORTED_TEXT, retention, channel]),
      )
      return reply === 1 ? 'cancelled' : reply === 2 ? 'running' : 'none'
    },
    onCancel(listener) {
      listeners.add(listener)
      listen()
      return () => void listeners.delete(listener)
    },
    onResync(listener) {
      return redis.onReconnect(listener)
    },
    async dead(name, limit) {
      const raw = (await redis.evalScript(
        DEAD,
        [deadKey(name)],
        [`${tag}:job:`, limit],
      )) as string[]
      return raw.map(fromStored)
    },
    async revive(id, pending) {
      return (await redis.evalScript(REVIVE, [jobKey(id)], [pending, deadKey('')])) === 1
    },
    async close() {
      listeners.clear()
      const pending = unsubscribe
      unsubscribe = undefined
      if (pending !== undefined) await (await pending.catch(() => async () => {}))()
    },
  }
}
