/**
 * Name patterns used by `fanout/no-parallel-auth`. Every list is a set of globs (`*` = any run of
 * characters, matched against a callee's last name, case-sensitive) or `/regex/flags` strings.
 * Users replace a list through the rule's options; `extra*` options add to the defaults.
 */

/**
 * Calls that are gates: they throw, redirect or deny when the caller is not allowed, so nothing
 * they guard may start before they finish (authentication, authorisation, ownership, entitlement).
 */
export const DEFAULT_GATE_PATTERNS: readonly string[] = [
  // Authentication: a token, session or login that must be valid.
  'verify*Token',
  'verify*Session',
  'verifyAuth*',
  'verifyJwt',
  'verifyJWT',
  'validateSession',
  'validate*Token',
  'authenticate*',
  'requireUser',
  'requireSession',
  'requireAuth*',
  'requireLogin',
  'requireLoggedIn',
  'requireSignedIn',
  'ensureAuth*',
  'ensureUser',
  'ensureLoggedIn',
  'ensureSignedIn',
  'assertAuth*',
  'assertLoggedIn',
  'assertSignedIn',
  'auth.protect',
  '*UserOrRedirect',
  '*SessionOrRedirect',
  // Authorisation: roles, permissions, access to one resource.
  'authorize*',
  'authorise*',
  // `getAuthorizedProject(id)` loads only what the caller may see; an authorised *client*
  // (`getAuthorizedClient()`, an OAuth client) is plumbing, not a check.
  '/^getAuthorized(?!(Client|Http|Fetch|Axios|Api|Headers|Request)([A-Z]|$))[A-Z]/',
  'requireAdmin',
  'requireRole',
  'require*Role',
  'requirePermission*',
  'require*Permission*',
  'require*Access',
  'ensure*Access',
  'ensure*Permission*',
  'ensure*Role',
  'ensureAdmin',
  'verify*Access',
  'verify*Permission*',
  'checkAccess',
  'checkAccess*',
  'checkPermission*',
  'checkIfUserHasAccess*',
  'hasAccess*',
  'canAccess*',
  'assertCan*',
  'assertHas*Access',
  'assertAccess*',
  'assert*Admin',
  'assert*Role',
  'assert*Permission*',
  'enforce*Permission*',
  // Ownership and membership, in their enforcing forms (the getters are session-like below).
  'assertOwner*',
  'assertIsOwner*',
  'assertMember*',
  'assertIsMember*',
  'assert*Membership',
  'require*Owner*',
  'require*Membership',
  'ensure*Owner*',
  'ensure*Membership',
  'check*Ownership',
  'check*Membership',
  'verify*Ownership',
  'verify*Membership',
]

/**
 * Calls that read an optional session/user. They are a gate only when their result is used as one
 * (tested, then the function returns, throws, redirects or answers 401/403), or when the calls
 * beside them touch user-scoped, private or mutating data. Otherwise the session is an
 * "attribute" (it only shapes the output) and parallel fetching of public data is fine.
 */
export const DEFAULT_SESSION_PATTERNS: readonly string[] = [
  'auth',
  'getSession',
  'getServerSession',
  'getServerAuthSession',
  'getCurrentSession',
  'getUserSession',
  'getSessionUser',
  'getAuthSession',
  'getAuthUser',
  'getCurrentUser',
  'currentUser',
  'getAuthenticatedUser',
  'getAuthenticatedSession',
  'getLoggedInUser',
  'getSignedInUser',
  'auth.getUser',
  'auth.getSession',
  'auth.getClaims',
  'getAuth',
  'getToken',
  'validateRequest',
  // WorkOS AuthKit's `withAuth()` reads the session (it redirects only with `ensureSignedIn`).
  'withAuth',
  // A membership lookup answers "is this user in that team?": a gate only when used as one.
  'get*Membership',
  'find*Membership',
  'fetch*Membership',
  'load*Membership',
]

/**
 * Reads that throw when nothing matches (Prisma `findUniqueOrThrow`, Kysely
 * `executeTakeFirstOrThrow`, TypeORM/MikroORM `findOneOrFail`, Mongoose `.orFail()`, Objection
 * `.throwIfNotFound()`). Such a read is data unless it acts as a check: its result is discarded
 * or only tested, or it pairs a resource id with an owner key and its result is not used as data,
 * while a call beside it is scoped by the same key or writes. A name whose stem is an auth call
 * (`getSessionOrThrow`, `requireUserOrFail`) is a gate.
 */
export const DEFAULT_OR_THROW_PATTERNS: readonly string[] = [
  '*OrThrow',
  '*OrFail',
  'orFail',
  'throwIfNotFound',
  '*OrNotFound',
  '*Or404',
]

/**
 * Filter keys that name an owner: a lookup whose filter pairs a resource id with one of them
 * (`{ id, ownerId: userId }`, `{ teamId, userId }`, `members: { some: { userId } }`) checks
 * ownership or membership.
 */
export const DEFAULT_OWNER_KEY_PATTERNS: readonly string[] = [
  '/^(owner|user|author|creator|createdBy|member|members|tenant|org|organi[sz]ation)(Id|ID|Ids|_id)?$/',
]

/**
 * Calls that never need a gate in front of them: request-scoped context that is cheap and
 * side-effect free (`headers()`, `cookies()`, `request.json()`), and clearly public data.
 */
export const DEFAULT_PUBLIC_PATTERNS: readonly string[] = [
  'headers',
  'cookies',
  'draftMode',
  'json',
  'text',
  'formData',
  'arrayBuffer',
  'blob',
  'connection',
  'timeout',
  'sleep',
  'delay',
  'wait',
  'setTimeout',
  '*Public*',
  'getPublic*',
  'getStatic*',
  'getSiteConfig',
  'getSiteSettings',
  'getNavigation',
  'getFeatureFlags',
  'getTranslations',
  'getDictionary',
  'getMessages',
  'getLocale',
]

/**
 * Names (callee segments and string literals in the call chain) that mark data as private or
 * user-scoped: beside any auth call, such a call is reported.
 */
export const DEFAULT_PRIVATE_PATTERNS: readonly string[] = [
  '/secret|private|billing|balance|invoice|payment|account|admin|credential|password|apikey|api_key|ssn|salary|payroll|order|subscription|profile|settings|message|inbox|dashboard|transaction|wallet|customer|tenant|member|team|workspace|organi[sz]ation/i',
  '/^(getMy|fetchMy|listMy|loadMy)|ForUser|ByUser|ForCurrentUser|^(get|fetch|load)Me$/',
]

/**
 * Identifiers that, read in a data call's arguments, scope it to a user, tenant or request
 * (ids, tokens, the session, the request itself).
 */
export const DEFAULT_SCOPE_PATTERNS: readonly string[] = [
  '/^(user|account|customer|tenant|org|organi[sz]ation|company|team|workspace|member|owner|session|viewer|project|experience)(Id|Ids|ID|_id)?$/i',
  '/(user|account|customer|tenant|org|organi[sz]ation|company|team|workspace|member|owner|session|viewer)(Id|Ids|ID|_id)$/i',
  '/token|jwt|apiKey|credential|cookie|headersList|authorization/i',
  'req',
  'request',
  'ctx',
  'context',
  'me',
  'viewer',
]

/** Mutations: a write started before its auth check finishes happens even when the check fails. */
export const DEFAULT_MUTATION_PATTERNS: readonly string[] = [
  '/^(create|update|delete|remove|insert|upsert|save|set|put|patch|post|send|write|destroy|charge|refund|transfer|pay|publish|approve|grant|revoke|invite|enqueue|increment|decrement|record|track|log)([A-Z_]|$)/',
]

/**
 * Flow task names that mean "this task is an auth check": such a `.task` should be a `.gate`.
 */
export const DEFAULT_TASK_PATTERNS: readonly string[] = [
  'auth',
  'authn',
  'authz',
  'authenticate*',
  'authorize*',
  'authorise*',
  'authorization',
  'session',
  'verify*',
  'login',
  'access',
  'accessCheck',
  'checkAccess',
  'permission*',
  'entitlement*',
]

/** Return-type names that mark a call as a session lookup when type information is available. */
export const DEFAULT_SESSION_TYPE_PATTERNS: readonly string[] = [
  'Session',
  '*Session',
  'AuthSession',
  'AuthUser',
  'CurrentUser',
  'SessionUser',
  'Claims',
  'JWTPayload',
  'JwtPayload',
  'AuthenticatedUser',
  'LoggedInUser',
]
