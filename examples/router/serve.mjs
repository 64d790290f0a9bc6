// Serve a composed supergraph with Hive Gateway's runtime (a Federation 2 router) on node:http.
//
//   node serve.mjs supergraph.graphql [--host 127.0.0.1] [--port 4000]
//
// Prints "router listening on http://HOST:PORT/graphql" once it accepts requests (--port 0: any
// free port). Every subgraph request carries the client's Authorization header, so chargegate
// still sees the driver; chargegate's also carries the router's API key (credentials.mjs).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { subgraphHeaders } from "./credentials.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "4000" } },
});
if (positionals.length !== 1) {
  console.error("usage: node serve.mjs supergraph.graphql [--host H] [--port P]");
  process.exit(2);
}

const gateway = createGatewayRuntime({
  supergraph: positionals[0],
  logging: "warn",
  graphiql: false,
  propagateHeaders: {
    fromClientToSubgraphs({ request, subgraphName }) {
      return { authorization: request.headers.get("authorization"), ...subgraphHeaders(subgraphName) };
    },
  },
});

const server = createServer(gateway);
server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  console.log(`router listening on http://${address}:${port}/graphql`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => gateway.dispose().finally(() => process.exit(0))));
}
