// Runs graphql-http's GraphQL-over-HTTP server audits against a live server and prints one JSON
// summary on stdout: {"passed": [...], "warnings": [...], "failures": [...], "notices": [...]}.
// Usage: CLIENTSTRATA_TOKEN=cst_… node audit.mjs http://127.0.0.1:PORT/graphql
// Every request carries the bearer token: the audits test the protocol, not authentication.
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const token = process.env.CLIENTSTRATA_TOKEN;
if (!url || !token) {
  console.error('usage: CLIENTSTRATA_TOKEN=<token> node audit.mjs <graphql url>');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const entry = (r) => ({ id: r.id, name: r.name, ...(r.status === 'ok' ? {} : { reason: r.reason, status: r.response.status }) });
const summary = {
  passed: results.filter((r) => r.status === 'ok').map(entry),
  failures: results.filter((r) => r.status === 'error').map(entry),   // failed MUSTs
  warnings: results.filter((r) => r.status === 'warn').map(entry),    // failed SHOULDs
  notices: results.filter((r) => r.status === 'notice').map(entry),   // failed MAYs
};
console.log(JSON.stringify(summary, null, 2));
