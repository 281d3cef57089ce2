/**
 * The framework's layers (docs/architecture.md), as rules dependency-cruiser checks on every test run
 * (test/architecture.test.ts): no import cycle (type-only imports included), no import from a
 * higher layer, MikroORM's internals reached from src/rest/orm/ only, and the Library reaching
 * the framework only by its package name.
 */
const rest = (name) => `^src/rest/${name}(\\.ts$|/)`;

/** Bottom to top: a module may import its own layer (without cycles) and the layers below. */
export const layers = [
  ['base', ['exceptions', 'validation', 'urls', 'promises', 'mediatypes', 'settings', 'ajv']],
  ['orm', ['orm']],
  ['serializers', ['fields', 'serializers']],
  ['users', ['auth/models', 'auth/passwords', 'auth/users', 'auth/csrf', 'auth/config', 'auth/commands']],
  ['content', ['parsers', 'negotiation', 'renderers/base', 'renderers/json']],
  ['views', ['views', 'authentication', 'permissions', 'throttling', 'conditional']],
  ['lists', ['pagination', 'filters']],
  ['generics', ['generics']],
  ['viewsets', ['mixins', 'actions', 'viewsets', 'metadata']],
  ['openapi', ['openapi']],
  ['routers', ['routers']],
  ['browsable', ['renderers/browsable', 'renderers/index']],
  ['app', ['defaults', 'plugin', 'auth/plugin', 'testing', 'fault-proxy', 'lifecycle', 'index', 'build', 'management']],
];

const pathsOf = (names) => names.map(rest).join('|');

export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Layers import downward only; an import cycle (type-only imports included) ties two modules into one.',
      from: {},
      to: { circular: true },
    },
    ...layers.slice(0, -1).map(([name, modules], i) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `The ${name} layer imports only itself and the layers below it (docs/architecture.md).`,
      from: { path: pathsOf(modules) },
      to: { path: pathsOf(layers.slice(i + 1).flatMap(([, higher]) => higher)) },
    })),
    {
      name: 'every-module-has-a-layer',
      severity: 'error',
      comment: 'A framework module that no layer names is one nobody decided the place of.',
      from: { path: '^src/rest/', pathNot: `${pathsOf(layers.flatMap(([, modules]) => modules))}|^src/rest/dist/` },
      to: {},
    },
    {
      name: 'orm-behind-its-facade',
      severity: 'error',
      comment: 'The database adapter is reached through src/rest/orm.ts; only its own modules see orm/ (and MikroORM internals, in orm/internals.ts).',
      from: { path: '^src/rest/', pathNot: '^src/rest/orm(\\.ts$|/)' },
      to: { path: '^src/rest/orm/' },
    },
    {
      name: 'internals-in-one-module',
      severity: 'error',
      comment: 'MikroORM internals are reached through src/rest/orm/internals.ts (checked against the installed version by test/orm.test.ts), by the adapter and the accessors its facade exports.',
      from: { path: '^src/rest/', pathNot: '^src/rest/orm(\\.ts$|/)' },
      to: { path: '^src/rest/orm/internals\\.ts$' },
    },
    {
      name: 'framework-knows-no-app',
      severity: 'error',
      comment: 'fastrest does not import the Library, the tests or the benchmarks.',
      from: { path: '^src/rest/' },
      to: { path: '^(src/library|test|bench)/' },
    },
    {
      name: 'app-imports-the-package',
      severity: 'error',
      comment: "The Library imports the framework by its package name ('fastrest'), as any third-party app does.",
      from: { path: '^(src/library|bench|schemas|migrations)/' },
      to: { path: '^src/rest/', dependencyTypesNot: ['aliased-workspace', 'npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/rest/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { conditionNames: ['fastrest-source', 'types', 'import', 'node', 'default'], exportsFields: ['exports'] },
    combinedDependencies: false,
  },
};
