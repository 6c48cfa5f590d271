/**
 * The words of a callee's name (`verifyUserToken` → verify, user, token) and what they say about
 * the call: a gate (auth, validation, rate limit), a write, a read, or nothing we can rely on.
 * Names are the fallback: a query builder chain is classified by its steps first (`data-layers`).
 */

export type Effect = 'request' | 'read' | 'gate' | 'write' | 'transaction' | 'unknown'

/** Words that make a call a gate wherever they appear in its name (camelCase / snake_case segments). */
const GATE_WORDS = new Set([
  'session',
  'sessions',
  'auth',
  'authenticate',
  'authorize',
  'authorise',
  // getAuthenticatedUser, getAuthorizedProject, getLoggedInUser, requireMembership, getMe
  'authenticated',
  'authorized',
  'authorised',
  'logged',
  'membership',
  'memberships',
  'whoami',
  'me',
  'permission',
  'permissions',
  'access',
  'entitlement',
  'entitlements',
  'idempotency',
  'idempotent',
  'ratelimit',
  'csrf',
  'captcha',
  'token',
  'login',
  'signin',
])
/** First words of gate calls: `verifyUserToken`, `assertHasAiAccess`, `requireUser`, `checkQuota`. */
const GATE_FIRST = new Set([
  'auth',
  'authenticate',
  'authorize',
  'authorise',
  'validate',
  'assert',
  'check',
  'verify',
  'require',
  'ensure',
  'guard',
  'protect',
  'enforce',
  'must',
  'allow',
  'permit',
  'limit',
  'ratelimit',
  'throttle',
  'consume',
  'lock',
  'acquire',
  'login',
  'sign',
  'can',
  'is',
  'has',
  'parse',
  'deny',
  'reject',
])
/** Words that make a call a write wherever they appear: `getOrCreate`, `findOneAndUpdate`. */
const WRITE_WORDS = new Set([
  'create',
  'update',
  'upsert',
  'delete',
  'insert',
  'remove',
  'save',
  'increment',
  'decrement',
  'publish',
  'send',
  'write',
  'persist',
  'destroy',
  'replace',
  'append',
  'enqueue',
  'charge',
  'refund',
  'cancel',
  'submit',
  'revalidate',
  'refresh',
  'invalidate',
  'purge',
  'reset',
  'clear',
  'flush',
  'commit',
  'rollback',
  'upload',
  'notify',
  'emit',
  'dispatch',
  'trigger',
  'invoke',
  'execute',
  'exec',
  'mutate',
  'set',
  'put',
  'mark',
  'track',
  'patch',
  'store',
])
/** First words of writes. */
const WRITE_FIRST = new Set([
  ...WRITE_WORDS,
  'post',
  'add',
  'push',
  'pop',
  'shift',
  'del',
  'incr',
  'decr',
  'hset',
  'hdel',
  'sadd',
  'srem',
  'zadd',
  'zrem',
  'lpush',
  'rpush',
  'expire',
  'move',
  'copy',
  'rename',
  'mkdir',
  'unlink',
  'rm',
  'log',
  'start',
  'stop',
  'init',
  'setup',
  'pay',
  'book',
  'reserve',
  'claim',
  'approve',
  'archive',
  'restore',
  'enable',
  'disable',
  'toggle',
  'assign',
  'attach',
  'detach',
  'link',
  'run',
  'apply',
  'sync',
  'import',
  'register',
  'subscribe',
  'unsubscribe',
  'connect',
  'disconnect',
  'open',
  'close',
  'seed',
  'migrate',
  'record',
  'release',
  'unlock',
  'query',
  'sql',
  'raw',
  'call',
  'request',
  'send',
])
/** First words of reads: only these may ever be grouped. */
const READ_FIRST = new Set([
  'get',
  'fetch',
  'find',
  'load',
  'read',
  'list',
  'select',
  'count',
  'search',
  'lookup',
  'retrieve',
  'describe',
  'exists',
  'aggregate',
  'download',
  'stat',
  'readdir',
  'scan',
  'hget',
  'hgetall',
  'mget',
  'smembers',
  'zrange',
  'lrange',
  'sismember',
  'json',
  'text',
  'blob',
  'form',
  'array',
  'head',
  'compute',
  'calculate',
  'estimate',
  'render',
  'preview',
  'summarize',
  'summarise',
  'translate',
  'embed',
  'classify',
  'recommend',
  'suggest',
  'geocode',
  'group',
  'query',
])

export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_$]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase())
}

/** `findUniqueOrThrow`, TypeORM's `findOneOrFail`: a read that throws when nothing matches. */
export const OR_THROW = /(OrThrow|OrFail)$/

/**
 * Classify a callee by the words of its name; unknown unless a read is evident. An `*OrThrow`
 * read is classified by the rest of its name (a read): whether it acts as a check depends on how
 * it is used, which `groups` decides.
 */
export function classifyName(name: string): Effect {
  const ws = words(name.replace(OR_THROW, ''))
  const first = ws[0]
  if (first === undefined) return 'unknown'
  if (GATE_FIRST.has(first) || ws.some((w) => GATE_WORDS.has(w))) return 'gate'
  if (ws.some((w, i) => w === 'current' && ws[i + 1] === 'user')) return 'gate'
  if (ws.includes('transaction')) return 'transaction'
  if (WRITE_FIRST.has(first) || ws.some((w) => WRITE_WORDS.has(w))) return 'write'
  if (READ_FIRST.has(first)) return first === 'query' && ws.length === 1 ? 'unknown' : 'read'
  return 'unknown'
}
