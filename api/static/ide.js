// Starts GraphiQL on the page served at the GraphQL endpoint (api/ide.py). The bearer token goes in
// the headers editor; GraphiQL sends those headers with every request and, with
// shouldPersistHeaders off, never writes them to the browser's storage.
(function () {
  "use strict";
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  // ASCII only: a browser refuses to send a header value outside ISO-8859-1
  var defaultHeaders = JSON.stringify({ Authorization: "Bearer <paste your token here>" }, null, 2);
  var defaultQuery = [
    "# ClientStrata. Put your token in Headers below, then run (Ctrl-Enter).",
    "{",
    "  customers(first: 3) {",
    "    totalCount",
    "    edges { node { id name tier cooperationDepth } }",
    "  }",
    "}",
    "",
  ].join("\n");
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: defaultHeaders,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
    })
  );
})();
