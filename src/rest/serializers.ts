/**
 * Serializers (DRF's `serializers.py` and `relations.py`), one module per part in `serializers/`:
 * the model serializer, its schemas and representation, declared fields, related fields, nested
 * serializers and their static types.
 */
export {
  ModelSerializer,
  type ModelSerializerOptions,
  type SerializerInput,
  type SerializerOutput,
  type SerializerSchemas,
} from './serializers/model.ts';
export {
  contextEm,
  Field,
  nullable,
  PendingCreate,
  PendingWrite,
  type AnyEntitySchema,
  type DeclaredFieldOptions,
  type FieldInfo,
  type SerializerLike,
  type SerializerContext,
  type ValidationContext,
} from './serializers/field.ts';
export {
  PrimaryKeyRelatedField,
  RelatedField,
  SlugRelatedField,
  primaryKeyOf,
  type RelatedFieldOptions,
  type SlugRelatedFieldOptions,
} from './serializers/relations.ts';
export { HyperlinkedIdentityField, HyperlinkedRelatedField, type HyperlinkOptions } from './serializers/hyperlinks.ts';
export { NestedField, NestedWrite, type NestedFieldOptions } from './serializers/nested.ts';
export type { AllFieldNames, AnyField, DeclaredFields, FieldNameOf, InputOf, OutputOf, ReadOnlyDeclared, Wire } from './serializers/types.ts';
