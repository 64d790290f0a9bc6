// Compose a Federation 2 supergraph from running subgraphs, with @theguild/federation-composition.
//
//   node compose.mjs NAME=URL [NAME=URL ...] --out supergraph.graphql [--public public.graphql]
//
// Each subgraph's SDL is read from its `_service { sdl }` (chargegate's with CHARGEGATE_ROUTER_KEY,
// see credentials.mjs). Composition errors are printed and the exit status is 1.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";
import { subgraphHeaders } from "./credentials.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string" }, public: { type: "string" } },
});
if (!values.out || positionals.length === 0) {
  console.error("usage: node compose.mjs NAME=URL [NAME=URL ...] --out supergraph.graphql [--public FILE]");
  process.exit(2);
}

async function subgraphSdl(name, url) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...subgraphHeaders(name) },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json().catch(() => null);
  const sdl = body?.data?._service?.sdl;
  if (!sdl) {
    throw new Error(`${name} (${url}) gave no SDL: HTTP ${response.status} ${JSON.stringify(body?.errors ?? body)}`);
  }
  return sdl;
}

const services = [];
for (const spec of positionals) {
  const at = spec.indexOf("=");
  const [name, url] = [spec.slice(0, at), spec.slice(at + 1)];
  services.push({ name, url, typeDefs: parse(await subgraphSdl(name, url)) });
}
const result = composeServices(services);
if (result.errors) {
  for (const error of result.errors) console.error(`composition: ${error.message}`);
  process.exit(1);
}
writeFileSync(values.out, result.supergraphSdl);
if (values.public) writeFileSync(values.public, result.publicSdl);
console.error(`composed ${services.map((s) => s.name).join(", ")} into ${values.out}`);
