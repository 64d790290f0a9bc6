// The router's credentials towards each subgraph: chargegate answers _service and _entities only to
// an API key with the `router` scope (in production), read from CHARGEGATE_ROUTER_KEY and sent as
// X-Api-Key to the subgraph named "chargegate" alone, never to the others.
export const CHARGEGATE = "chargegate";

export function subgraphHeaders(name) {
  const key = process.env.CHARGEGATE_ROUTER_KEY;
  return name === CHARGEGATE && key ? { "x-api-key": key } : {};
}
