// A front-end's view of the API: graphql-request (a real JS GraphQL client) fetches one page of
// customers with a bearer token and prints {"status", "contentType", "data"} (or {"error"}) as JSON.
// Usage: CLIENTSTRATA_TOKEN=cst_… node customers.mjs http://127.0.0.1:PORT/graphql [first]
import { GraphQLClient, gql } from 'graphql-request';

const [url, first = '5'] = process.argv.slice(2);
const client = new GraphQLClient(url, {
  headers: { authorization: `Bearer ${process.env.CLIENTSTRATA_TOKEN ?? ''}` },
});
const query = gql`
  query Page($first: Int!, $after: String) {
    customers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name tier phone } }
    }
  }
`;
try {
  const { data, status, headers } = await client.rawRequest(query, { first: Number(first) });
  console.log(JSON.stringify({ status, contentType: headers.get('content-type'), data }));
} catch (err) {
  // graphql-request's ClientError carries the server's response (status and GraphQL errors)
  const response = err.response ?? {};
  console.log(JSON.stringify({ error: { status: response.status, errors: response.errors ?? String(err) } }));
}
