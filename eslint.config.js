// The house rules that a tool can check: promises are awaited, imports go down the layers and never in a circle, files and functions stay small.
// Layers, lowest first: core < store, transport < drivers, import, export, entra, directory < provision < web, cli (docs/architecture.md).
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

/** Folders of one layer may import only these folders (their own and the layers below). */
const LAYERS = {
  'src/core': [],
  'src/store': ['src/core'],
  'src/transport': ['src/core'],
  drivers: ['src/core', 'src/transport'],
  'src/import': ['src/core', 'src/store', 'src/transport'],
  'src/export': ['src/core', 'src/store', 'src/transport'],
  'src/entra': ['src/core', 'src/store', 'src/transport'],
  // The LDAP / AD client: it reads the store's types and nothing above them.
  'src/directory': ['src/core', 'src/store'],
  'src/provision': [
    'src/core',
    'src/store',
    'src/transport',
    'drivers',
    'src/import',
    'src/export',
    'src/entra',
    'src/directory',
  ],
};
const ALL_FOLDERS = [
  'src/core',
  'src/store',
  'src/transport',
  'drivers',
  'src/import',
  'src/export',
  'src/entra',
  'src/directory',
  'src/provision',
  'src/web',
  'src/cli',
];

/** One no-restricted-paths zone per (layer, folder it must not reach). */
const layerZones = Object.entries(LAYERS).flatMap(([layer, below]) =>
  ALL_FOLDERS.filter((f) => f !== layer && !below.includes(f)).map((from) => ({
    target: `./${layer}`,
    from: `./${from}`,
    message: `${layer} sits below ${from}: move the shared piece down a layer (see docs/architecture.md).`,
  })),
);

/** Promise rules for every TypeScript file: a dropped promise loses its error. */
const promiseRules = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': 'error',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'fixtures/**',
      'test-output/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
      'vitest.config.ts',
    ],
  },
  {
    files: ['src/**/*.ts', 'drivers/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // The dependency graph is read from .ts sources, so import-x must parse them with the TypeScript parser.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import './x.js' for './x.ts' (NodeNext ESM); the resolver maps it back so cycles and layers see real files.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      ...promiseRules,
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'drivers/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // Every line counts (code, comments and blank lines), as `wc -l` and a reader count them.
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
);
