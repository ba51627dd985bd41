// make lint: ESLint's and typescript-eslint's recommended rules, and the type-aware promise rules
// (a check or a stand-in handler that forgets an await passes or fails for the wrong reason).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'labs/**', 'node_modules/**', 'reports/**', 'bench/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.tests.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/finally or an `await using` block leaves the block before the
      // promise settles: a started lab was downed as its checks began (the CI failure of 2026-12-03).
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
    },
  },
  // Every call to the Docker engine has a deadline: its API only through runtime/engine.ts, Compose
  // only through runtime/compose-cli.ts, commands only through runtime/exec.ts (whose `run` needs a
  // `timeoutMs`), throw-away containers only through harness/probe.ts. Each of those bounds its calls.
  {
    files: ['generator/**/*.ts', 'harness/**/*.ts', 'sim/src/**/*.ts'],
    ignores: ['generator/runtime/engine.ts', 'generator/runtime/compose-cli.ts', 'generator/runtime/exec.ts', 'harness/probe.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'dockerode',
              message: 'the engine API goes through generator/runtime/engine.ts, where every call has a deadline',
              allowTypeImports: true,
            },
            {
              name: 'docker-compose',
              message: 'Compose goes through generator/runtime/compose-cli.ts, where every command has a deadline',
              allowTypeImports: true,
            },
            { name: 'child_process', message: 'commands go through generator/runtime/exec.ts (run needs a timeoutMs)' },
            { name: 'testcontainers', message: 'throw-away containers go through harness/probe.ts, which bounds them' },
          ],
        },
      ],
    },
  },
);
