/**
 * `fanout/eslint`: rules that find waterfalls (independent awaits run one after another) and the
 * opposite danger (data fetched in parallel with the auth check that guards it). ESLint flat
 * config, ESLint 8.57+ (a legacy .eslintrc cannot load a plugin from a package not named
 * eslint-plugin-*); JS, TS, JSX and TSX through typescript-eslint's parser 7 or 8; type
 * information is used when the project provides it, never required.
 *
 * @example
 * // eslint.config.js
 * import fanout from 'fanout/eslint'
 * export default [fanout.configs.recommended]
 */
import type { ESLint, Linter, Rule } from 'eslint'
import { noAwaitInLoopIndependent } from './rules/no-await-in-loop-independent.js'
import { noParallelAuth } from './rules/no-parallel-auth.js'
import { noSequentialAwait } from './rules/no-sequential-await.js'

export const rules: Record<string, Rule.RuleModule> = {
  'no-sequential-await': noSequentialAwait,
  'no-parallel-auth': noParallelAuth,
  'no-await-in-loop-independent': noAwaitInLoopIndependent,
}

const plugin: ESLint.Plugin & { configs: { recommended: Linter.Config } } = {
  meta: { name: 'fanout', version: '0.1.0' },
  rules,
  configs: { recommended: {} as Linter.Config },
}

/**
 * The rules at their recommended levels: all warn. `no-parallel-auth` recognises checks by name,
 * use and type, which a reviewer should confirm before the build fails on it (make it `error` once
 * it has been quiet on your code).
 */
plugin.configs.recommended = {
  name: 'fanout/recommended',
  plugins: { fanout: plugin },
  rules: {
    'fanout/no-sequential-await': 'warn',
    'fanout/no-parallel-auth': 'warn',
    'fanout/no-await-in-loop-independent': 'warn',
  },
}

export { noAwaitInLoopIndependent, noParallelAuth, noSequentialAwait }
export default plugin
