#!/usr/bin/env bash
# A private Neo4j Community 5.26 LTS server on 127.0.0.1 for development and tests: up | down | status | assemble.
# The server is assembled from Maven Central (tests/servers/neo4j/pom.xml; ~/.m2 caches it) and
# run as org.neo4j.server.CommunityEntryPoint with authentication on: user neo4j, password
# CLIENTSTRATA_NEO4J_PASSWORD (development default clientstrata-dev). Bolt only; HTTP is off.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${CLIENTSTRATA_NEO4J_BOLT_PORT:-7687}
PW=${CLIENTSTRATA_NEO4J_PASSWORD:-clientstrata-dev}
HOME_DIR=${CLIENTSTRATA_NEO4J_HOME:-/tmp/clientstrata-neo4j-$PORT}
HEAP=${CLIENTSTRATA_NEO4J_HEAP:-1g}
LIB="$HERE/neo4j/target/lib"
PID="$HOME_DIR/neo4j.pid"

# The JVM options Neo4j's own launcher passes on Java 17.
JAVA=(java -Xms256m -Xmx"$HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -Dfile.encoding=UTF-8
      -Dlog4j2.disable.jmx=true --add-opens=java.base/java.nio=ALL-UNNAMED
      --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
      --add-opens=java.base/java.lang=ALL-UNNAMED -cp "$LIB/*")
export NEO4J_HOME="$HOME_DIR" NEO4J_CONF="$HOME_DIR/conf"

assemble() {
  if [ ! -f "$LIB/.complete" ] || [ "$HERE/neo4j/pom.xml" -nt "$LIB/.complete" ]; then
    echo "assembling Neo4j Community 5.26 from Maven Central (cached in ~/.m2)…"
    rm -rf "$LIB" && mvn -B -q -f "$HERE/neo4j/pom.xml" package && touch "$LIB/.complete"
  fi
}

running() { [ -f "$PID" ] && kill -0 "$(cat "$PID")" 2>/dev/null; }

case "${1:-}" in
  up)
    # Neo4j refuses a password shorter than 8 characters (auth_minimum_password_length) with a
    # Java stack trace: say so in one line before anything is started or written
    if [ "${#PW}" -lt 8 ]; then
      echo "CLIENTSTRATA_NEO4J_PASSWORD has ${#PW} characters; Neo4j needs at least 8 characters" >&2
      exit 2
    fi
    if running; then echo "Neo4j already up on bolt://127.0.0.1:$PORT"; exit 0; fi
    assemble
    mkdir -p "$HOME_DIR/conf" "$HOME_DIR/data" "$HOME_DIR/logs" "$HOME_DIR/run"
    cat > "$HOME_DIR/conf/neo4j.conf" <<EOF
server.default_listen_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:$PORT
server.bolt.advertised_address=127.0.0.1:$PORT
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=true
dbms.usage_report.enabled=false
server.memory.heap.max_size=$HEAP
server.memory.pagecache.size=${CLIENTSTRATA_NEO4J_PAGECACHE:-512m}
db.tx_log.rotation.retention_policy=1 files
EOF
    if [ ! -f "$HOME_DIR/data/dbms/auth.ini" ] && [ ! -d "$HOME_DIR/data/databases/system" ]; then
      "${JAVA[@]}" org.neo4j.cli.AdminTool dbms set-initial-password "$PW" >/dev/null
    fi
    rm -f "$HOME_DIR/logs/neo4j.log"  # so "Started." below is this start's
    nohup "${JAVA[@]}" org.neo4j.server.CommunityEntryPoint --home-dir="$HOME_DIR" \
      --config-dir="$HOME_DIR/conf" > "$HOME_DIR/logs/console.log" 2>&1 &
    echo $! > "$PID"
    for _ in $(seq 1 180); do
      grep -q "Started\." "$HOME_DIR/logs/neo4j.log" 2>/dev/null && break
      running || { echo "Neo4j failed to start; last lines of its log:" >&2;
                   tail -n 20 "$HOME_DIR/logs/console.log" "$HOME_DIR/logs/neo4j.log" >&2 2>/dev/null; exit 1; }
      sleep 1
    done
    grep -q "Started\." "$HOME_DIR/logs/neo4j.log" || { echo "Neo4j did not start within 180 s" >&2; exit 1; }
    echo "Neo4j up: CLIENTSTRATA_NEO4J_URI=bolt://127.0.0.1:$PORT CLIENTSTRATA_NEO4J_USER=neo4j" \
         "CLIENTSTRATA_NEO4J_PASSWORD=<password> (logs: $HOME_DIR/logs)"
    ;;
  down)
    if running; then
      kill "$(cat "$PID")"
      for _ in $(seq 1 60); do running || break; sleep 1; done
      running && kill -9 "$(cat "$PID")"
    fi
    rm -f "$PID"
    echo "Neo4j stopped"
    ;;
  assemble) assemble ;;  # once, before several servers start side by side
  status)
    if running; then echo "Neo4j up on bolt://127.0.0.1:$PORT (pid $(cat "$PID"))"; else echo "Neo4j down"; exit 3; fi ;;
  *) echo "usage: $0 up|down|status|assemble" >&2; exit 2 ;;
esac
