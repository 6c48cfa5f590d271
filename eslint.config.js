// ESLint for fanout's own code (src, test, bench, examples). `npm run lint` runs it, as part of
// `npm test`, under tsx so that this config can load fanout's own rules from src/eslint.
//
// typescript-eslint's recommended rules without type information: the type-checked run (for
// no-floating-promises) took twice as long and 1.6 GB here, too much for every `npm test`.
import tseslint from 'typescript-eslint'
import fanout from './src/eslint/index.ts'

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', 'test/eslint/corpus/', 'test/fixtures/', 'test/.readme/', 'test/.docs-context/', 'scratch/'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_name` marks a parameter or binding kept for its position or shape, not its value.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // The project's own waterfall and auth rules on the code that ships and its examples.
    files: ['src/**/*.ts', 'examples/**/*.ts'],
    ignores: ['**/*.test.ts', 'src/eslint/**'],
    extends: [fanout.configs.recommended],
  },
)
