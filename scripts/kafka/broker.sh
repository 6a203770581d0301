#!/usr/bin/env bash
# Native single-node Apache Kafka 4.x (KRaft) built from Maven Central artifacts.
# Jars live in .kafka/libs, data in .data/kafka, the broker log in .data/kafka-broker.log
# (all git-ignored). `up` is idempotent: a broker already answering on the port is reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOST="${KAFKA_HOST:-127.0.0.1}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
LIBS="$ROOT/.kafka/libs"
DATA="$ROOT/.data/kafka"
CONF="$ROOT/.data/kafka-conf"
LOG="$ROOT/.data/kafka-broker.log"
PIDFILE="$ROOT/.data/kafka.pid"
HEAP="${KAFKA_HEAP:-512m}"

log() { printf '[kafka] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

fetch_jars() {
  if [ -f "$LIBS/kafka_2.13-4.1.1.jar" ] && [ -f "$LIBS/log4j-slf4j-impl-2.24.3.jar" ]; then return; fi
  command -v mvn >/dev/null || { log "error: Maven (mvn) is needed to fetch the Kafka broker jars; install Java 17 + Maven, or use Docker (docker compose up -d)"; exit 1; }
  command -v java >/dev/null || { log "error: Java 17 is needed to run the native Kafka broker; install it, or use Docker"; exit 1; }
  log "fetching Kafka 4.1.1 jars from Maven Central into .kafka/libs"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2
}

write_config() {
  mkdir -p "$CONF" "$DATA"
  cat > "$CONF/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=12
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# KIP-848 (the "consumer" group protocol): the broker owns session and heartbeat timing; the 45 s
# defaults would make a crashed replica's partitions wait 45 s before they move.
group.consumer.session.timeout.ms=10000
group.consumer.min.session.timeout.ms=6000
group.consumer.heartbeat.interval.ms=2000
group.consumer.min.heartbeat.interval.ms=1000
auto.create.topics.enable=false
log.retention.hours=24
PROPS
  cat > "$CONF/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.log
        level: WARN
      - name: org.apache.kafka.storage
        level: WARN
YAML
}

wait_ready() {
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  while [ $SECONDS -lt $deadline ]; do
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      log "error: broker process exited during start; last log lines:"; tail -20 "$LOG" >&2; exit 1
    fi
    # A metadata request through the admin tool proves the broker serves clients, not just that the port is bound.
    if port_open "$PORT" && java -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$HOST:$PORT" --list >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  log "error: broker did not answer a metadata request on $HOST:$PORT within ${KAFKA_START_TIMEOUT:-90}s; see $LOG"; exit 1
}

up() {
  if port_open "$PORT"; then log "broker already answering on $HOST:$PORT; reusing it"; return 0; fi
  fetch_jars
  write_config
  if [ ! -f "$DATA/meta.properties" ]; then
    local cid; cid=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)
    java -cp "$LIBS/*" -Dlog4j2.configurationFile="$CONF/log4j2.yaml" kafka.tools.StorageTool format \
      --standalone --ignore-formatted -t "$cid" -c "$CONF/server.properties" >>"$LOG" 2>&1
    log "formatted storage in .data/kafka (cluster id $cid)"
  fi
  log "starting broker on $HOST:$PORT (log: .data/kafka-broker.log)"
  nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF/log4j2.yaml" -Dkafka.logs.dir="$ROOT/.data" \
    -cp "$LIBS/*" kafka.Kafka "$CONF/server.properties" >>"$LOG" 2>&1 &
  echo $! > "$PIDFILE"
  wait_ready
  log "broker ready on $HOST:$PORT (pid $(cat "$PIDFILE"))"
}

down() {
  if [ ! -f "$PIDFILE" ]; then log "no broker started by this project is running"; return 0; fi
  local pid; pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "broker did not stop in 30s; killing"; kill -9 "$pid"; }
    log "broker stopped"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  reset) down; rm -rf "$DATA"; log "data removed" ;;
  status) if port_open "$PORT"; then echo "kafka: up on $HOST:$PORT"; else echo "kafka: down"; exit 1; fi ;;
  *) echo "usage: broker.sh up|down|reset|status" >&2; exit 2 ;;
esac
