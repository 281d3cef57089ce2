/**
 * Viewsets: one class serving a collection and its items. `ModelViewSet` offers the six standard
 * actions, `ReadOnlyModelViewSet` list and retrieve; a router turns the actions a viewset has
 * into routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  createAction,
  destroyAction,
  GenericAPIView,
  listAction,
  retrieveAction,
  standardActions,
  updateAction,
  type StandardAction,
} from './generics.ts';
import type { ModelSerializer } from './serializers.ts';

/** An action handler: returns the response body (or nothing for an empty response). */
export type ActionHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** A model view whose standard actions are chosen by the `actions` it lists. */
export abstract class GenericViewSet<S extends ModelSerializer = ModelSerializer> extends GenericAPIView<S> {
  /** The standard actions this viewset serves. */
  abstract readonly actions: readonly StandardAction[];
  /** Plural of the name in operationIds and summaries ("Books"); defaults to name + "s". */
  pluralName: string | undefined = undefined;

  get plural(): string {
    return this.pluralName ?? `${this.name}s`;
  }

  /** The handler of a standard action, bound to this viewset. */
  handlerFor(action: StandardAction): ActionHandler {
    switch (action) {
      case 'list':
        return (request) => this.list(request);
      case 'create':
        return (request, reply) => this.create(request, reply);
      case 'retrieve':
        return (request) => this.retrieve(request);
      case 'update':
        return (request) => this.update(request);
      case 'partialUpdate':
        return (request) => this.partialUpdate(request);
      case 'destroy':
        return (request, reply) => this.destroy(request, reply);
    }
  }

  /** DRF's `ListModelMixin.list`. */
  list(request: FastifyRequest): Promise<unknown> {
    return listAction(this, request);
  }

  /** DRF's `CreateModelMixin.create`. */
  create(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    return createAction(this, request, reply);
  }

  /** DRF's `RetrieveModelMixin.retrieve`. */
  retrieve(request: FastifyRequest): Promise<unknown> {
    return retrieveAction(this, request);
  }

  /** DRF's `UpdateModelMixin.update`. */
  update(request: FastifyRequest): Promise<unknown> {
    return updateAction(this, request, false);
  }

  /** DRF's `UpdateModelMixin.partial_update`. */
  partialUpdate(request: FastifyRequest): Promise<unknown> {
    return updateAction(this, request, true);
  }

  /** DRF's `DestroyModelMixin.destroy`. */
  destroy(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    return destroyAction(this, request, reply);
  }
}

/** Every standard action: list, create, retrieve, update, partial update, destroy. */
export abstract class ModelViewSet<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = Object.keys(standardActions) as StandardAction[];
}

/** List and retrieve only. */
export abstract class ReadOnlyModelViewSet<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['list', 'retrieve'];
}
