/**
 * Renderers: how response data becomes bytes of the negotiated media type. `JSONRenderer` is the
 * default; the browsable HTML API plugs in as another `BaseRenderer` (see base.ts for the seam).
 */
export { BaseRenderer, type RenderContext, type RendererSelection } from './base.ts';
export { JSONRenderer, schemaShaped } from './json.ts';
export { BrowsableAPIRenderer, BROWSABLE_CSP, installBrowsableApi, STATIC_PREFIX } from './browsable/index.ts';
