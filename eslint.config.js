import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/results/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            '.ci/*.js',
            'test/fixtures/*.js',
            'test/fixtures/*.mjs',
            'test/fixtures/conformance-server/*.mjs',
            'scripts/*.mjs',
          ],
          // The files above are linted outside tsconfig.json (they are plain JavaScript); the default cap is 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'as', objectLiteralTypeAssertions: 'never' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read the environment only in libs/config.' }],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/testing/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ObjectExpression > Property[kind='get'], ObjectExpression > Property[kind='set']",
          message:
            "An object literal with an accessor of its own kept every request of the edge alive into V8's old generation (5 KB a request, bench/notes.md): use a class with the accessor on its prototype.",
        },
      ],
    },
  },
  {
    // The CLI loads a service's modules only in the command that runs it (`await import(...)`): a
    // static import would load auth's storage and the edge's HTTP server into every runner.
    files: ['apps/gateway/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // The process guard, every command's, is the one exception (gitignore rules: its folder is let
              // through, then everything in it held back again, then the file let through).
              group: [
                '**/auth/src/**',
                '**/edge/src/**',
                '**/runner/src/**',
                '!**/runner/src/process/',
                '**/runner/src/process/**',
                '!**/runner/src/process/process-guard.js',
              ],
              allowTypeImports: true,
              message: "Import another app's modules with `await import(...)` in the command that needs them.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/config/src/**', '**/*.spec.ts', 'test/**', 'bench/**', 'libs/testing/src/**', '*.js', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.spec.ts', 'test/**'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // jest's asymmetric matchers are typed any.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
