/**
 * fastrest's public entry: every concept the apps use, and every option type they need.
 * Apps import from here only; modules not listed are internals.
 */
export * from './exceptions.ts';
export { fastrest, serverOptions, type FastrestOptions } from './plugin.ts';
export { gracefulShutdown, timeoutOptions, type GracefulShutdownOptions } from './lifecycle.ts';
export { defaultSettings, resolveSettings } from './defaults.ts';
export { settingsOf, type RestSettings } from './settings.ts';
export {
  contextEm,
  Field,
  HyperlinkedIdentityField,
  HyperlinkedRelatedField,
  ModelSerializer,
  NestedField,
  NestedWrite,
  PendingCreate,
  PendingWrite,
  PrimaryKeyRelatedField,
  RelatedField,
  SlugRelatedField,
  type AllFieldNames,
  type AnyField,
  type DeclaredFieldOptions,
  type DeclaredFields,
  type FieldInfo,
  type HyperlinkOptions,
  type InputOf,
  type ModelSerializerOptions,
  type NestedFieldOptions,
  type OutputOf,
  type RelatedFieldOptions,
  type SerializerContext,
  type SerializerInput,
  type SerializerLike,
  type SerializerOutput,
  type SerializerSchemas,
  type SlugRelatedFieldOptions,
  type ValidationContext,
  type Wire,
} from './serializers.ts';
export { labelOf, type ColumnInfo, type FieldOptions } from './fields.ts';
export { APIView, hasUser, initialHook, LazyUser, type Authenticator, type Permission, type PolicyResult, type RequestUser, type Throttle } from './views.ts';
export {
  BaseFilterBackend,
  FieldFilterBackend,
  OrderingFilter,
  SearchFilter,
  type AnyQueryBuilder,
  type FieldNameOf,
  type FieldPath,
  type FieldPathOf,
  type FilteredView,
  type FilterFields,
  type FilterHtml,
  type FilterParam,
  type Lookup,
  type OrderingFields,
  type SearchField,
  type SearchFields,
  type ValueKind,
} from './filters.ts';
export {
  BasePagination,
  CursorPagination,
  LimitOffsetPagination,
  PageNumberPagination,
  type CountMode,
  type CursorOrderingTerm,
  type CursorPosition,
  type JsonSchema,
  type ListQuery,
  type PageLink,
  type PaginatedView,
  type PaginationHtml,
} from './pagination.ts';
export { GenericAPIView, standardActions, type ActionSpec, type HttpMethod, type StandardAction } from './generics.ts';
export {
  CreateAPIView,
  GenericViewSet,
  ListAPIView,
  ListCreateAPIView,
  ModelViewSet,
  ReadOnlyModelViewSet,
  RetrieveAPIView,
  RetrieveDestroyAPIView,
  RetrieveUpdateAPIView,
  RetrieveUpdateDestroyAPIView,
  type ActionHandler,
} from './viewsets.ts';
export { paginatedList } from './mixins.ts';
export {
  action,
  many,
  paginated,
  type Page,
  type PaginatedOf,
  type ActionBody,
  type ActionOptions,
  type ActionSchema,
  type ActionValue,
  type ExtraAction,
  type ExtraActionHandler,
  type ManyOf,
  type ViewMethodSchema,
  type ViewMethodSchemas,
} from './actions.ts';
export { asView, DefaultRouter, SimpleRouter, type Registration, type Route } from './routers.ts';
export { SimpleMetadata, describeField, type FieldMetadata } from './metadata.ts';
export { BaseRenderer, BrowsableAPIRenderer, BROWSABLE_CSP, JSONRenderer, schemaShaped, type RenderContext, type RendererSelection } from './renderers/index.ts';
export { BaseParser, FormParser, JSONParser, MultiPartParser, formData, matchParser, type BodyKind, type UploadedFile } from './parsers.ts';
export { BaseContentNegotiation, DefaultContentNegotiation, patchVaryHeaders } from './negotiation.ts';
export { MediaType, parseAccept } from './mediatypes.ts';
export { addSharedSchema, ErrorDetailSchema, ValidationErrorSchema, BadRequestSchema } from './openapi.ts';
export { absoluteUrl, origin, UrlRegistry } from './urls.ts';
export { NON_FIELD_ERRORS, errorDetailsFromAjv, messageFor, type FieldErrors } from './validation.ts';
export {
  atomic,
  databaseAnswers,
  DatabaseUnavailable,
  isDatabaseUnavailable,
  databasePlugin,
  driverOf,
  migrate,
  MIGRATION_LOCK,
  openDatabase,
  schemaDrifted,
  withAdvisoryLock,
  type DatabaseOptions,
} from './orm.ts';
export { CompiledQueries, CompiledQuery, executePrepared, numberedPlaceholders, runStatement, slot, type Row, type StatementIntent, type StatementTarget } from './orm.ts';
export { readsFromPrimary, stickToPrimary } from './orm.ts';
export { APIClient, createTestDatabase, FaultProxy, type FaultMode, withDatabaseName, type APIResponse, type RequestOptions, type TestDatabase, type TestFile } from './testing.ts';
export {
  BaseAuthentication,
  BasicAuthentication,
  SessionAuthentication,
  TokenAuthentication,
  type AuthAnswer,
  type AuthResult,
  type TokenAuthenticationOptions,
} from './authentication.ts';
export {
  allowedMethods,
  AllowAny,
  and,
  BasePermission,
  cloneRequest,
  defaultPermsMap,
  DjangoModelPermissions,
  DjangoModelPermissionsOrAnonReadOnly,
  IsAdminUser,
  IsAuthenticated,
  IsAuthenticatedOrReadOnly,
  IsOwner,
  not,
  or,
  SAFE_METHODS,
  userHasPerms,
  withMessage,
  type IsOwnerOptions,
  type ModelPermissionsOptions,
  type PermissionLike,
  type PermissionOptions,
} from './permissions.ts';
export {
  AnonRateThrottle,
  BaseThrottle,
  defaultThrottleStore,
  MemoryThrottleStore,
  parseRate,
  RedisThrottleStore,
  ScopedRateThrottle,
  SimpleRateThrottle,
  UserRateThrottle,
  type Rate,
  type RateThrottleOptions,
  type ThrottleHit,
  type ThrottleStore,
} from './throttling.ts';
export { ConditionalRequests, matchesEntityTag, parseEntityTags, type ConditionalView } from './conditional.ts';
export { authEntities, Group, Permission as PermissionEntity, Session, Token, User } from './auth/models.ts';
export { hashPassword, passwordProblems, verifyPassword } from './auth/passwords.ts';
export {
  addToGroups,
  checkCredentials,
  closeSession,
  createSuperuser,
  createToken,
  createUser,
  ensureGroup,
  ensurePermission,
  findToken,
  findTokenRow,
  findUser,
  grantPermissions,
  hasPerms,
  openSession,
  permissionsOf,
  revokeTokens,
  sessionUser,
  setPassword,
  type NewUser,
  type TokenRow,
} from './auth/users.ts';
export { checkCsrfToken, csrfToken, isSafeMethod, type CsrfOptions } from './auth/csrf.ts';
export type { AuthConfig } from './auth/config.ts';
export { authPlugin, AuthTokenView, INVALID_LOGIN, isSafeNext, type AuthPluginOptions } from './auth/plugin.ts';
export { authCommands, runAuthCommand, type CommandIO } from './auth/commands.ts';
export {
  isMigrationCommand,
  managementCommands,
  migrationCommands,
  runManagementCommand,
  runMigrationCommand,
  type ManagementContext,
  type MigrationCommand,
} from './management/commands.ts';
export { projectName, startProject, type StartedProject } from './management/startproject.ts';
