// Starts GraphiQL on the page served at the GraphQL endpoint (api/ide.py). The bearer token goes in
// the headers editor; GraphiQL sends those headers with every request and, with
// shouldPersistHeaders off, never writes them to the browser's storage.
//
// The schema (docs, completion) is fetched only once the headers carry a token: introspecting with
// the placeholder would fail with 401 and open the page on an error. Each new token introspects
// again (GraphiQL does when its fetcher changes), a moment after the last keystroke in the editor.
(function () {
  "use strict";
  var PLACEHOLDER = "<paste your token here>";
  var SETTLE_MS = 300;
  // ASCII only: a browser refuses to send a header value outside ISO-8859-1
  var defaultHeaders = JSON.stringify({ Authorization: "Bearer " + PLACEHOLDER }, null, 2);
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

  // The bearer token in the headers editor's text, or null (none, the placeholder, not JSON yet).
  function tokenIn(text) {
    var headers;
    try {
      headers = JSON.parse(text || "{}");
    } catch (e) {
      return null;
    }
    var value = headers && (headers.Authorization || headers.authorization);
    var match = typeof value === "string" ? /^Bearer\s+(\S+)$/.exec(value.trim()) : null;
    return match && value.indexOf(PLACEHOLDER) < 0 ? match[1] : null;
  }

  function App() {
    var tokenState = React.useState(null);
    var token = tokenState[0];
    var setToken = tokenState[1];
    var timer = React.useRef(null);
    var fetcher = React.useMemo(
      function () {
        return GraphiQL.createFetcher({ url: window.location.pathname });
      },
      [token]
    );
    function onEditHeaders(text) {
      clearTimeout(timer.current);
      timer.current = setTimeout(function () {
        setToken(tokenIn(text));
      }, SETTLE_MS);
    }
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      schema: token ? undefined : null, // null: no introspection until there is a token
      onEditHeaders: onEditHeaders,
      defaultHeaders: defaultHeaders,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
