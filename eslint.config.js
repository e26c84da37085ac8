// ESLint for the TypeScript: the sidecar, its migrations, the benchmark and the tests.
// Type-aware (typescript-eslint reads tsconfig.tests.json, which covers all of
// them), because the bugs worth a linter here are the ones types reveal: a promise nobody awaits
// (an engine step whose failure vanishes), a promise passed where a callback's result is ignored
// (an express handler or an event listener), an `await` on something that is not a promise.
// `npm run lint` runs this and the PHP checks (scripts/lint-php.sh).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'tests/artifacts/**', 'plugin-php/**', 'views/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        // One program for everything: tsconfig.tests.json includes the sidecar, migrations,
        // bench, tests and the vitest configs (tsconfig.json, the build, leaves tests out).
        project: './tsconfig.tests.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A floating promise is an unhandled rejection waiting to happen (and in the engine, a
      // step whose failure nobody hears of). `void p` says "on purpose".
      '@typescript-eslint/no-floating-promises': 'error',
      // Express 5 awaits async handlers, so async route callbacks are fine; everywhere else a
      // promise where a void callback is expected is a rejection nobody catches.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, properties: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch skips the catch when the promise rejects (only that case:
      // `return await` elsewhere is the house style and harmless).
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // Throwing or rejecting with a non-Error loses the stack and breaks `instanceof ApiError` checks.
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names are deliberately unused (express's 4-argument error handler, ignored destructuring).
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true,
      }],
      // Non-null assertions are used on purpose after a check TypeScript cannot follow
      // (a Map entry just set, a regex group that matched). Not a lint error.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `let server; … server = await start(…)` with closures reading it before: deliberate.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-eval': 'error',
      'no-implied-eval': 'off',
      '@typescript-eslint/no-implied-eval': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests and the benchmark read other processes' JSON answers loosely on purpose.
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
