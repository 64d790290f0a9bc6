// GraphiQL for chargegate: queries and mutations over HTTP, subscriptions over graphql-transport-ws,
// and the headers editor's headers sent with both (over WebSocket as the connection_init payload,
// where the gateway reads `Authorization: Bearer <driver token>`).
(function () {
  "use strict";
  const url = window.location.href.split(/[?#]/)[0];
  const wsUrl = url.replace(/^http/, "ws");
  const overHttp = GraphiQL.createFetcher({ url: url });
  const clients = new Map(); // one WebSocket client per distinct set of headers

  function wsClient(headers) {
    const key = JSON.stringify(headers || {});
    if (!clients.has(key)) {
      clients.set(key, graphqlWs.createClient({ url: wsUrl, connectionParams: headers || {}, lazy: true }));
    }
    return clients.get(key);
  }

  function isSubscription(params, opts) {
    const document = opts && opts.documentAST;
    if (!document) {
      return /^\s*subscription\b/.test(params.query);
    }
    const operations = document.definitions.filter(function (d) {
      return d.kind === "OperationDefinition";
    });
    const chosen = operations.find(function (d) {
      return !params.operationName || (d.name && d.name.value === params.operationName);
    });
    return Boolean(chosen) && chosen.operation === "subscription";
  }

  function fetcher(params, opts) {
    if (!isSubscription(params, opts)) {
      return overHttp(params, opts);
    }
    return wsClient(opts && opts.headers).iterate({
      query: params.query,
      variables: params.variables,
      operationName: params.operationName,
    });
  }

  window.chargegateFetcher = fetcher; // what the page runs operations with (the browser test uses it)
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultQuery:
        "# Acting for a driver? Headers tab:\n" +
        '# {"Authorization": "Bearer <token>"}\n' +
        "# (demo: chargegate token alice)\n" +
        "{\n  operators {\n    id\n    name\n  }\n}\n",
    }),
  );
})();
