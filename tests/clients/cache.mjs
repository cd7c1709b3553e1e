// A front end's normalized cache: Apollo Client's InMemoryCache, with only the `possibleTypes` that
// docs/graphql.md tells a client to load, asks customers' 360s (ecosystem, household members,
// holdings) one after the other, then reads each back from the cache. Prints
// {"server": {id: the server's answer}, "cached": {id: what the cache returns}} as JSON: a cache
// that mixes one customer's paths into another's shows as a difference.
// Usage: CLIENTSTRATA_TOKEN=cst_… node cache.mjs http://127.0.0.1:PORT/graphql ID [ID …]
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core';
import { print } from 'graphql';

const [url, ...ids] = process.argv.slice(2);
const headers = { authorization: `Bearer ${process.env.CLIENTSTRATA_TOKEN ?? ''}` };

const QUERY = gql`
  query Customer360($id: ID!) {
    customer(id: $id) {
      id
      ecosystem(hops: 3, first: 1000) { hops relations node { id kind name degree } }
      household { id status members { id role aum customerId } }
      holdings { family balance holdings { id accountId productId balance } }
    }
  }
`;

async function post(query, variables = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

// The abstract types' members, from the server's own schema (docs/graphql.md#client-caches)
async function possibleTypes() {
  const { data } = await post('{ __schema { types { name possibleTypes { name } } } }');
  return Object.fromEntries(
    data.__schema.types.filter((t) => t.possibleTypes).map((t) => [t.name, t.possibleTypes.map((p) => p.name)]),
  );
}

// Apollo adds __typename to every selection; the server was asked without it
const plain = (value) =>
  JSON.parse(JSON.stringify(value, (key, v) => (key === '__typename' ? undefined : v)));

const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers }),
  cache: new InMemoryCache({ possibleTypes: await possibleTypes() }),
});
const server = {};
for (const id of ids) {
  server[id] = (await post(print(QUERY), { id })).data;
  await client.query({ query: QUERY, variables: { id }, fetchPolicy: 'network-only' });
}
const cached = {};
for (const id of ids) cached[id] = plain(client.readQuery({ query: QUERY, variables: { id } }));
console.log(JSON.stringify({ server, cached }));
