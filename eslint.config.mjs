import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import project from './tools/eslint/no-import-cycle.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'data/', 'coverage/', 'test-artifacts/', 'test/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard's browser code (served as is, no build): browser globals, not Node's.
    files: ['api/dashboard/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    // No import cycles. import-x's rule follows value imports through the TypeScript resolver
    // (extensionless relative imports, folder indexes); ours also counts `import type`, which it skips.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX, project },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      // Without the TypeScript parser import-x cannot read a dependency, and silently follows nothing.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-unresolved': 'error',
      'project/no-import-cycle': 'error',
    },
  },
  {
    // The layers, by resolved path (type-only imports count).
    files: ['**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './domain',
              from: ['./activities', './api', './bench', './clients', './config', './reference-data', './sandbox', './scripts', './store', './test', './workers', './workflows'],
              message: 'domain/ imports nothing from the other project folders.',
            },
            {
              target: './workflows',
              from: ['./api', './bench', './clients', './config', './reference-data', './sandbox', './scripts', './store', './test', './workers'],
              message: 'workflows/ imports only domain/, workflows/ (contracts.ts, messages.ts) and activities as types.',
            },
            { target: './api', from: './activities', message: 'api/ does not import activities/: stored documents are in store/, workflow contracts in workflows/.' },
          ],
        },
      ],
    },
  },
  {
    // Workflow code is deterministic (no Node APIs, no I/O) and runs activities through proxies: their types only.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!\\.|@temporalio/(workflow|common)$)', message: 'workflows/ uses no package but @temporalio/workflow and @temporalio/common.' },
            { regex: '(^|/)activities(/|$)', allowTypeImports: true, message: 'workflows/ imports activities only as types (import type).' },
          ],
        },
      ],
    },
  },
  {
    // The domain is deterministic too: no Node APIs, no I/O.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'http', 'https', 'crypto', 'mongodb', 'express'] }],
    },
  },
);
