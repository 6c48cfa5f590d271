/**
 * The options of `fanout/no-parallel-auth`. Kept apart from the rule so the classifier can read
 * them without importing the rule module (which imports the classifier).
 */
export interface NoParallelAuthOptions {
  /** Replace the default gate patterns (calls that deny by throwing/redirecting). */
  gatePatterns?: string[]
  /** Replace the default session patterns (calls whose result may be an optional attribute). */
  sessionPatterns?: string[]
  /** Replace the default reads that throw when nothing matches (`*OrThrow`, `*OrFail`, …). */
  orThrowPatterns?: string[]
  /** Replace the default filter keys that name an owner (`ownerId`, `userId`, `tenantId`, …). */
  ownerKeyPatterns?: string[]
  /** Replace the default public/request-context patterns (never need a gate). */
  publicPatterns?: string[]
  /** Replace the default private-data patterns (matched on callee segments and string literals). */
  privatePatterns?: string[]
  /** Replace the default scope patterns (identifiers in arguments that scope a call to a user/request). */
  scopePatterns?: string[]
  /** Replace the default mutation patterns (callee names of writes). */
  mutationPatterns?: string[]
  /** Replace the default flow task names that mean "auth" (such a `.task` should be a `.gate`). */
  taskPatterns?: string[]
  /** Replace the default session return-type names (used only with type information). */
  sessionTypePatterns?: string[]
  /** Added to the defaults (or to the replaced list). */
  extraGatePatterns?: string[]
  extraSessionPatterns?: string[]
  extraPublicPatterns?: string[]
  extraPrivatePatterns?: string[]
  extraOrThrowPatterns?: string[]
  /** Check `const p = data(); await verify(); await p` (default true). */
  checkStartEarly?: boolean
  /** Check fanout flows for auth-named `.task`s (default true). */
  checkFlows?: boolean
}
