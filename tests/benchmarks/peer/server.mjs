// The peer for tests/benchmarks/bench_graphql_peer.py: @neo4j/graphql on Apollo Server (standalone,
// Node's http) over the Neo4j at NEO4J_URI, schema from typeDefs.graphql beside this file.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

const typeDefs = readFileSync(new URL("./typeDefs.graphql", import.meta.url), "utf8");
const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? "clientstrata-dev"),
);
const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
const server = new ApolloServer({ schema });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: Number(process.env.PORT ?? 4000) } });
console.log(`peer ready at ${url}`);
