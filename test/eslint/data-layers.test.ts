/**
 * The data-layer table of `no-sequential-await`: how a call chain is classified by its root and
 * first call. A read beside another independent read is reported; a write, a gate or a call the
 * table cannot vouch for is never grouped.
 */
import { describe, expect, it } from 'vitest'
import { noSequentialAwait } from '../../src/eslint/rules/no-sequential-await.js'
import { lint, type RuleUnderTest } from './fix-oracle.js'

const RULE: RuleUnderTest = { name: 'no-sequential-await', rule: noSequentialAwait }

/** Is `call` grouped with an independent read after it? */
function grouped(call: string, header = '', options?: object): boolean {
  const code = `${header}
export async function handler(db: any, supabase: any, knex: any, s3: any, api: any, sql: any) {
  const first = await ${call}
  const second = await api.getSettings()
  return { first, second }
}
`
  return lint(code, options ? { ...RULE, options: [options] } : RULE).length === 1
}

const READS = [
  // Drizzle
  'db.select().from(users).where(eq(users.id, id))',
  'db.select({ n: count() }).from(posts)',
  'db.query.users.findFirst({ where: eq(users.id, id) })',
  'db.execute(sql`select * from users where id = ${id}`)',
  // Supabase
  "supabase.from('projects').select('*').eq('owner', id).single()",
  "supabase.from('tags').select('id, name').order('name').limit(20)",
  // Kysely
  "db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst()",
  "db.selectFrom('person').select('name').execute()",
  // Knex
  "knex('users').where({ id }).first()",
  "knex.select('*').from('users').where('id', id)",
  // Prisma
  'db.$queryRaw`SELECT * FROM "User" WHERE id = ${id}`',
  'db.user.findUniqueOrThrow({ where: { id } })',
  // SQL text
  "db.query('SELECT id FROM users WHERE org = $1', [org])",
  'sql`select count(*) from orders`',
  // Mongoose
  'db.User.findById(id).lean()',
  'db.Post.find({ author: id }).sort({ createdAt: -1 }).limit(10).exec()',
  'db.Comment.countDocuments({ post: id })',
  // TypeORM
  'db.users.findOneBy({ id })',
  'db.dataSource.getRepository(User).find()',
  "db.repo.createQueryBuilder('u').where('u.id = :id', { id }).getOne()",
  // HTTP
  'fetch(url)',
  "fetch(url, { method: 'GET', headers })",
  'api.axios.get(url)',
  'api.ky.get(url).json()',
  // GraphQL, routes
  'api.client.request(gql`query Viewer { viewer { id } }`)',
  "api.octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo })",
  'api.apollo.query({ query: VIEWER, variables: { id } })',
  // AWS SDK v3
  's3.send(new GetObjectCommand({ Bucket, Key }))',
  's3.send(new ListObjectsV2Command({ Bucket }))',
  's3.send(new QueryCommand({ TableName }))',
]

const NOT_READS = [
  // writes
  'db.insert(users).values(v).returning()',
  'db.update(users).set({ name }).where(eq(users.id, id))',
  'db.delete(users).where(eq(users.id, id))',
  "supabase.from('t').insert(row)",
  "supabase.from('t').update(row).eq('id', id).select()",
  "supabase.from('t').delete().eq('id', id)",
  "db.insertInto('person').values(v).execute()",
  "db.updateTable('person').set(v).where('id', '=', id).execute()",
  "knex('users').where({ id }).update({ name })",
  "knex('users').where({ id }).del()",
  'db.$executeRaw`UPDATE "User" SET name = ${name}`',
  "db.query('UPDATE users SET name = $1', [name])",
  "db.query('SELECT id FROM jobs FOR UPDATE SKIP LOCKED')",
  'db.User.create({ name })',
  'db.User.findOneAndUpdate({ _id: id }, { name })',
  'db.users.save(user)',
  "db.repo.createQueryBuilder().update(User).set({ name }).where('id = :id', { id }).execute()",
  "fetch(url, { method: 'POST', body })",
  'fetch(url, init)',
  'api.axios.post(url, body)',
  's3.send(new PutObjectCommand({ Bucket, Key, Body }))',
  'api.client.request(gql`mutation Rename { rename(id: 1) { id } }`)',
  'api.client.request(DOCUMENT)',
  "api.octokit.request('POST /repos/{owner}/{repo}/issues', { owner, repo, title })",
  's3.send(new DeleteItemCommand({ TableName, Key }))',
  // calls that cannot be vouched for
  'db.query(text)',
  's3.send(command)',
  // gates
  'api.getAuthenticatedUser()',
  'api.getLoggedInUser()',
  'api.getAuthorizedProject(id)',
  'api.requireMembership(org)',
  'api.getMembership(org, id)',
  'db.session.findUnique({ where: { token } })',
  // combinators
  'Promise.all([api.getA(), api.getB()])',
]

describe('data layers: reads are grouped', () => {
  it.each(READS)('%s', (call) => expect(grouped(call)).toBe(true))
})

describe('data layers: writes, gates and unknown calls are not', () => {
  it.each(NOT_READS)('%s', (call) => expect(grouped(call)).toBe(false))
})

describe('data layers: HTTP clients by import', () => {
  it("undici's request without a method is a read; with one, a write", () => {
    const header = "import { request } from 'undici'"
    expect(grouped('request(url)', header)).toBe(true)
    expect(grouped("request(url, { method: 'DELETE' })", header)).toBe(false)
    expect(grouped('request(url)')).toBe(false) // a function of the app's own: unknown
  })

  it('got and ky called directly read, unless told a method', () => {
    expect(grouped('got(url).json()', "import got from 'got'")).toBe(true)
    expect(grouped("got(url, { method: 'POST' }).json()", "import got from 'got'")).toBe(false)
    expect(grouped('ky(url).json()', "import ky from 'ky'")).toBe(true)
  })
})

describe('data layers: your own, through options', () => {
  it('reads, writes and gates are regular expressions over the callee text', () => {
    expect(grouped('api.cms.pull(slug)')).toBe(false)
    expect(grouped('api.cms.pull(slug)', '', { reads: ['^api\\.cms\\.pull$'] })).toBe(true)
    expect(grouped('api.loadUser(id)', '', { writes: ['^api\\.loadUser$'] })).toBe(false)
    expect(grouped('api.loadUser(id)', '', { gates: ['loadUser'], reads: ['loadUser'] })).toBe(
      false,
    )
  })
})
