/**
 * Viewsets: one class serving a collection and its items. The standard actions a viewset serves
 * are listed in `actions` (DRF's mixins, composed as data): `ModelViewSet` has all six,
 * `ReadOnlyModelViewSet` list and retrieve, and DRF's concrete generic views (`ListCreateAPIView`...)
 * are viewsets with their actions preset. `extraActions` adds routes of its own (DRF's `@action`).
 * A router turns the actions a viewset has into routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { specOfAction, type ExtraAction } from './actions.ts';
import { GenericAPIView, standardActions, type ActionSpec, type HttpMethod, type StandardAction } from './generics.ts';
import { createAction, destroyAction, listAction, retrieveAction, updateAction } from './mixins.ts';
import type { ModelSerializer } from './serializers.ts';
import { routeConfig } from './views.ts';

/** An action handler: returns the response body (or nothing for an empty response). */
export type ActionHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** A model view whose standard actions are chosen by the `actions` it lists. */
export abstract class GenericViewSet<S extends ModelSerializer = ModelSerializer> extends GenericAPIView<S> {
  /** The standard actions this viewset serves (DRF's mixins), e.g. `['list', 'create']`. */
  abstract readonly actions: readonly StandardAction[];
  /** Routes beyond the standard ones, declared with `action({...})` (DRF's `@action`). */
  extraActions: readonly ExtraAction[] = [];
  /** Plural of the name in operationIds and summaries ("Books"); defaults to name + "s". */
  pluralName: string | undefined = undefined;

  get plural(): string {
    return this.pluralName ?? `${this.name}s`;
  }

  /** The extra actions of this viewset (DRF's `get_extra_actions`). */
  getExtraActions(): readonly ExtraAction[] {
    return this.extraActions;
  }

  /** How `action` answers `method`, or `undefined` when this viewset does not serve it. */
  getActionSpec(action: string, method: HttpMethod): ActionSpec | undefined {
    if (action in standardActions) {
      const spec: ActionSpec = standardActions[action as StandardAction];
      return this.actions.includes(action as StandardAction) && spec.method === method ? spec : undefined;
    }
    const extra = this.getExtraActions().find((a) => a.name === action);
    return extra?.methods.includes(method) ? specOfAction(extra, method, this.name) : undefined;
  }

  /** The name of the action a request is routed to (DRF's `self.action`), e.g. `list` or `books`. */
  actionOf(request: FastifyRequest): string | undefined {
    return routeConfig(request).action;
  }

  /** The handler of a standard or extra action, bound to this viewset. */
  handlerFor(action: StandardAction | (string & {})): ActionHandler {
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
    const extra = this.getExtraActions().find((a) => a.name === action);
    if (!extra) throw new Error(`${this.constructor.name} has no action "${action}"`);
    return async (request, reply) => {
      const body = await extra.handler(request, reply);
      if (reply.statusCode === 200 && extra.status !== 200) reply.code(extra.status);
      return body;
    };
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

/** A view listing a collection (DRF's `ListAPIView`): the collection route with GET only. */
export abstract class ListAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['list'];
}

/** A view creating objects (DRF's `CreateAPIView`). */
export abstract class CreateAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['create'];
}

/** A view listing and creating (DRF's `ListCreateAPIView`). */
export abstract class ListCreateAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['list', 'create'];
}

/** A view showing one object (DRF's `RetrieveAPIView`): the item route with GET only. */
export abstract class RetrieveAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['retrieve'];
}

/** A view showing and changing one object (DRF's `RetrieveUpdateAPIView`). */
export abstract class RetrieveUpdateAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['retrieve', 'update', 'partialUpdate'];
}

/** A view showing and deleting one object (DRF's `RetrieveDestroyAPIView`). */
export abstract class RetrieveDestroyAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['retrieve', 'destroy'];
}

/** A view showing, changing and deleting one object (DRF's `RetrieveUpdateDestroyAPIView`). */
export abstract class RetrieveUpdateDestroyAPIView<S extends ModelSerializer = ModelSerializer> extends GenericViewSet<S> {
  readonly actions: readonly StandardAction[] = ['retrieve', 'update', 'partialUpdate', 'destroy'];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The viewset action a route runs (`list`, `retrieve`, an extra action's name); set by routers. */
    action?: string;
  }
}
