#!/usr/bin/env bash
# Real Apache Kafka 4.x (single-node KRaft) and Elasticsearch 9.x on 127.0.0.1, resolved from Maven Central, so the
# fleet path (taps → Kafka → detector group → Elasticsearch) is tested against the engines a platform team deploys.
#
#   scripts/services.sh up [kafka|elasticsearch]     start (idempotent: already running → only prints the env)
#   scripts/services.sh down [kafka|elasticsearch]   stop what `up` started, by the PID it recorded
#   scripts/services.sh env                          print KAFKA_BROKERS=… and ELASTICSEARCH_URL=… (exit 1 if down)
#   scripts/services.sh status                       one line per engine
#
# One instance per machine: state lives in $TAPWIRE_SERVICES_RUN (default /var/tmp/tapwire-services when root, so
# every worktree on the machine sees the same PID files), downloads in $TAPWIRE_SERVICES_CACHE (~/.cache/tapwire/services
# and Maven's ~/.m2). Data survives `down` so a stopped broker restarts with its log (fault tests rely on that);
# `down --wipe` removes it.
#
# Security: both engines listen on loopback only. Elasticsearch runs with security off (no TLS, no auth): acceptable
# for a loopback test cluster, never for a deployment. Kafka also opens a SASL/PLAIN listener whose test password is
# written to a 0600 file, never printed, and a TLS listener that requires a client certificate: a test CA, the
# broker's keystore and one client certificate are made with openssl under $RUN/kafka/tls (keys 0600, the CA's key
# deleted once it has signed both).
set -euo pipefail

KAFKA_VERSION=${TAPWIRE_KAFKA_VERSION:-4.1.1}
ES_VERSION=${TAPWIRE_ES_VERSION:-9.4.3}
KAFKA_PORT=${TAPWIRE_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${TAPWIRE_KAFKA_CONTROLLER_PORT:-19093}
KAFKA_SASL_PORT=${TAPWIRE_KAFKA_SASL_PORT:-19094}
KAFKA_TLS_PORT=${TAPWIRE_KAFKA_TLS_PORT:-19095}
ES_PORT=${TAPWIRE_ES_PORT:-19200}
ES_TRANSPORT_PORT=${TAPWIRE_ES_TRANSPORT_PORT:-19300}
KAFKA_HEAP=${TAPWIRE_KAFKA_HEAP:-512m}
ES_HEAP=${TAPWIRE_ES_HEAP:-1g}
ES_USER=${TAPWIRE_ES_USER:-tapwire-es}
# Seconds to wait for health before giving up (the first start of Elasticsearch on 2 busy cores is slow).
START_TIMEOUT=${TAPWIRE_SERVICES_TIMEOUT:-240}

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${TAPWIRE_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tapwire/services}
if [ "$(id -u)" = 0 ]; then DEFAULT_RUN=/var/tmp/tapwire-services; else DEFAULT_RUN=$CACHE/run; fi
RUN=${TAPWIRE_SERVICES_RUN:-$DEFAULT_RUN}

KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs
KAFKA_RUN=$RUN/kafka
KAFKA_TLS=$KAFKA_RUN/tls
# The unpacked distribution is shared by every instance (read-only to them); config, data and logs are per instance.
ES_HOME=${TAPWIRE_ES_HOME:-$DEFAULT_RUN/elasticsearch-$ES_VERSION}
ES_RUN=$RUN/elasticsearch
ES_CONF=$ES_RUN/config

say() { echo "services: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- helpers ----------------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# An engine this script started earlier and that is still starting: say so (true), so the caller only waits for it.
# A port held by anything else stops the run: it is not ours to use or to stop.
still_starting() { # name pidfile port port-variable
  if ! pid_alive "$2" && port_open "$3"; then
    die "$1: 127.0.0.1:$3 is in use by a process this script did not start; stop it or set $4"
  fi
  pid_alive "$2" || return 1
  say "$1: PID $(cat "$2") is starting; waiting for it"
}

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

# The first JDK of at least the given major: the override (a JAVA_HOME), then java on PATH, then /usr/lib/jvm.
find_java() {
  local min=$1 override=$2 candidate
  for candidate in ${override:+"$override/bin/java"} "$(command -v java || true)" /usr/lib/jvm/temurin-25-jdk-amd64/bin/java /usr/lib/jvm/*/bin/java; do
    [ -x "$candidate" ] || continue
    local major; major=$(java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

wait_until() { # seconds description command...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}

stop_pid_file() { # name pidfile
  local name=$1 file=$2
  if ! [ -f "$file" ]; then say "$name: not started by this script (no $file)"; return 0; fi
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    if ! wait_until 60 "$name to stop" bash -c "! kill -0 $pid 2>/dev/null"; then
      say "$name: PID $pid ignored SIGTERM for 60 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "$name: stopped (PID $pid)"
  fi
  rm -f "$file"
}

# ---- Kafka ------------------------------------------------------------------------------------------------------
kafka_resolve() {
  if [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; then return 0; fi
  command -v mvn >/dev/null || die "kafka: Maven (mvn) is needed to resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (apt-get install maven)"
  say "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  mvn -q -B -f "$REPO/deploy/local/kafka-pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.partial" >&2 || die "kafka: Maven could not resolve the broker"
  rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.partial" "$KAFKA_LIBS"
}

random_secret() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }

# A test CA, a broker certificate for 127.0.0.1/localhost in a PKCS#12 keystore, and a client certificate, all from
# the CA; made once per run directory. The CA's key is deleted after signing: nothing else can be issued from it.
kafka_tls_material() {
  if [ -f "$KAFKA_TLS/broker.p12" ] && [ -f "$KAFKA_TLS/client.pem" ]; then return 0; fi
  command -v openssl >/dev/null || die "kafka: openssl is needed to make the TLS listener's test certificates"
  rm -rf "$KAFKA_TLS" && mkdir -p "$KAFKA_TLS"
  (
    cd "$KAFKA_TLS" && umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=Tapwire test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    issue() { # name subject extensions
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
      printf '%s\n' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 3650 \
        -extfile "$1.ext" -out "$1.pem"
      rm -f "$1.csr" "$1.ext"
    }
    issue broker /CN=127.0.0.1 $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
    issue client /CN=tapwire-test-client 'extendedKeyUsage=clientAuth'
    random_secret > keystore-password
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -out broker.p12 \
      -passout file:keystore-password
    rm -f ca.key broker.key
    chmod 644 ca.pem
  ) >"$KAFKA_RUN/tls.log" 2>&1 || { cat "$KAFKA_RUN/tls.log" >&2; die "kafka: making the TLS test certificates failed"; }
}

# The TLS listener's settings (server.properties lines). KRaft cannot add an advertised listener to a running broker,
# so a broker started by an earlier version of this script gets it at its next start (`up` says so).
kafka_tls_settings() {
  local password; password=$(cat "$KAFKA_TLS/keystore-password")
  cat <<EOF
listener.name.ssl.ssl.keystore.type=PKCS12
listener.name.ssl.ssl.keystore.location=$KAFKA_TLS/broker.p12
listener.name.ssl.ssl.keystore.password=$password
listener.name.ssl.ssl.key.password=$password
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$KAFKA_TLS/ca.pem
listener.name.ssl.ssl.client.auth=required
EOF
}

KAFKA_LISTENERS="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT"
KAFKA_ADVERTISED="PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_TLS_PORT"
KAFKA_PROTOCOLS="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL"

kafka_configure() {
  mkdir -p "$KAFKA_RUN/data"
  if ! [ -f "$KAFKA_RUN/sasl-password" ]; then
    (umask 077 && random_secret > "$KAFKA_RUN/sasl-password")
  fi
  kafka_tls_material
  local password; password=$(cat "$KAFKA_RUN/sasl-password")
  (umask 077 && cat > "$KAFKA_RUN/server.properties" <<EOF
# Written by scripts/services.sh: one KRaft node that is broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$KAFKA_LISTENERS
advertised.listeners=$KAFKA_ADVERTISED
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$KAFKA_PROTOCOLS
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_tapwire="$password";
$(kafka_tls_settings)
log.dirs=$KAFKA_RUN/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join and leave groups many times; the 3 s default delay would only slow every first join.
group.initial.rebalance.delay.ms=0
# Tapwire creates its topics with explicit configs; a typo'd topic name must not silently create one.
auto.create.topics.enable=false
EOF
  )
  cat > "$KAFKA_RUN/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_RUN/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
EOF
}

kafka_java() { find_java 17 "${TAPWIRE_KAFKA_JAVA_HOME:-}" || die "kafka: Kafka 4 needs Java 17 or newer; none found (set TAPWIRE_KAFKA_JAVA_HOME)"; }

kafka_up() {
  if pid_alive "$KAFKA_RUN/kafka.pid" && port_open "$KAFKA_PORT"; then
    port_open "$KAFKA_TLS_PORT" || say "kafka: running without the TLS listener (started by an earlier services.sh); restart it to add it: $0 down kafka && $0 up kafka"
    return 0
  fi
  if ! still_starting kafka "$KAFKA_RUN/kafka.pid" "$KAFKA_PORT" TAPWIRE_KAFKA_PORT; then
    kafka_resolve
    kafka_configure
    local java; java=$(kafka_java)
    if ! [ -f "$KAFKA_RUN/data/meta.properties" ]; then
      local cluster_id; cluster_id=$("$java" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
      "$java" -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.properties" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$KAFKA_RUN/server.properties" >"$KAFKA_RUN/format.log" 2>&1 \
        || { cat "$KAFKA_RUN/format.log" >&2; die "kafka: formatting the KRaft log dir failed"; }
    fi
    : > "$KAFKA_RUN/server.log"
    say "kafka: starting Apache Kafka $KAFKA_VERSION (KRaft, $("$java" -version 2>&1 | head -1)) on 127.0.0.1:$KAFKA_PORT"
    setsid "$java" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.properties" -cp "$KAFKA_LIBS/*" \
      kafka.Kafka "$KAFKA_RUN/server.properties" >"$KAFKA_RUN/stdout.log" 2>&1 < /dev/null 9>&- &
    echo $! > "$KAFKA_RUN/kafka.pid"
  fi
  kafka_ready() { pid_alive "$KAFKA_RUN/kafka.pid" && port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$KAFKA_RUN/server.log"; }
  if ! wait_until "$START_TIMEOUT" kafka kafka_ready; then
    tail -n 30 "$KAFKA_RUN/server.log" "$KAFKA_RUN/stdout.log" >&2 || true
    pid_alive "$KAFKA_RUN/kafka.pid" || rm -f "$KAFKA_RUN/kafka.pid"
    die "kafka: not ready within ${START_TIMEOUT}s (log: $KAFKA_RUN/server.log)"
  fi
  say "kafka: ready (PID $(cat "$KAFKA_RUN/kafka.pid"))"
}

kafka_down() { stop_pid_file kafka "$KAFKA_RUN/kafka.pid"; }

# ---- Elasticsearch ----------------------------------------------------------------------------------------------
es_java_home() {
  local java; java=$(find_java 21 "${TAPWIRE_ES_JAVA_HOME:-}") \
    || die "elasticsearch: Elasticsearch 9 needs Java 21 or newer; none found under /usr/lib/jvm (set TAPWIRE_ES_JAVA_HOME)"
  dirname "$(dirname "$(readlink -f "$java")")"
}

es_resolve() {
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then return 0; fi
  command -v mvn >/dev/null || die "elasticsearch: Maven (mvn) is needed to resolve the distribution (apt-get install maven)"
  local artifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip
  say "elasticsearch: resolving $artifact from Maven Central"
  mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$CACHE" -Dmdep.overWriteIfNewer=false >&2 \
    || die "elasticsearch: Maven could not resolve $artifact"
  mkdir -p "$(dirname "$ES_HOME")"
  rm -rf "$ES_HOME.partial" && mkdir -p "$ES_HOME.partial"
  unzip -q "$CACHE/elasticsearch-$ES_VERSION.zip" -d "$ES_HOME.partial"
  mv "$ES_HOME.partial/elasticsearch-$ES_VERSION" "$ES_HOME" && rmdir "$ES_HOME.partial"
}

es_configure() {
  mkdir -p "$ES_RUN/data" "$ES_RUN/logs"
  [ -d "$ES_CONF" ] || cp -r "$ES_HOME/config" "$ES_CONF"
  cat > "$ES_CONF/elasticsearch.yml" <<EOF
# Written by scripts/services.sh: a single-node test cluster on loopback.
cluster.name: tapwire-local
node.name: tapwire-local-1
path.data: $ES_RUN/data
path.logs: $ES_RUN/logs
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
# Security off: loopback-only test cluster (no TLS, no users). Never copy this to a deployment.
xpack.security.enabled: false
# The machine's disk is shared with other work; a watermark must not turn the test cluster read-only.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  # Elasticsearch refuses to run as root: an unprivileged user owns its home, data and logs.
  if [ "$(id -u)" = 0 ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    chmod 755 "$RUN" "$(dirname "$ES_HOME")"
    chown -R "$ES_USER" "$ES_RUN"
    chmod -R a+rX "$ES_HOME"
  fi
}

es_health() { curl -fsS -m 5 "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; }

es_up() {
  if pid_alive "$ES_RUN/es.pid" && es_health; then return 0; fi
  if ! still_starting elasticsearch "$ES_RUN/es.pid" "$ES_PORT" TAPWIRE_ES_PORT; then
    es_resolve
    es_configure
    local java_home; java_home=$(es_java_home)
    say "elasticsearch: starting Elasticsearch $ES_VERSION (integ-test-zip, Java $(java_major "$java_home/bin/java"), heap $ES_HEAP) on 127.0.0.1:$ES_PORT"
    rm -f "$ES_RUN/es.pid"
    local -a launch=(env ES_JAVA_HOME="$java_home" ES_PATH_CONF="$ES_CONF" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP"
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_RUN/es.pid")
    if [ "$(id -u)" = 0 ]; then
      runuser -u "$ES_USER" -- "${launch[@]}" >"$ES_RUN/stdout.log" 2>&1 < /dev/null 9>&- \
        || { tail -n 30 "$ES_RUN/stdout.log" >&2; die "elasticsearch: failed to start (log: $ES_RUN/logs)"; }
    else
      "${launch[@]}" >"$ES_RUN/stdout.log" 2>&1 < /dev/null 9>&- \
        || { tail -n 30 "$ES_RUN/stdout.log" >&2; die "elasticsearch: failed to start (log: $ES_RUN/logs)"; }
    fi
  fi
  if ! wait_until "$START_TIMEOUT" elasticsearch es_health; then
    tail -n 30 "$ES_RUN/logs/tapwire-local.log" >&2 2>/dev/null || true
    die "elasticsearch: not healthy within ${START_TIMEOUT}s (log: $ES_RUN/logs)"
  fi
  say "elasticsearch: ready (PID $(cat "$ES_RUN/es.pid"))"
}

es_down() { stop_pid_file elasticsearch "$ES_RUN/es.pid"; }

# ---- commands ---------------------------------------------------------------------------------------------------
print_env() {
  local ok=0
  if pid_alive "$KAFKA_RUN/kafka.pid"; then
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    echo "KAFKA_SASL_BROKERS=127.0.0.1:$KAFKA_SASL_PORT"
    echo "KAFKA_SASL_USERNAME=tapwire"
    echo "KAFKA_SASL_PASSWORD_FILE=$KAFKA_RUN/sasl-password"
    if port_open "$KAFKA_TLS_PORT"; then
      echo "KAFKA_TLS_BROKERS=127.0.0.1:$KAFKA_TLS_PORT"
      echo "KAFKA_TLS_CA_FILE=$KAFKA_TLS/ca.pem"
      echo "KAFKA_TLS_CERT_FILE=$KAFKA_TLS/client.pem"
      echo "KAFKA_TLS_KEY_FILE=$KAFKA_TLS/client.key"
    fi
  else ok=1; fi
  if pid_alive "$ES_RUN/es.pid"; then echo "ELASTICSEARCH_URL=http://127.0.0.1:$ES_PORT"; else ok=1; fi
  return $ok
}

status() {
  if pid_alive "$KAFKA_RUN/kafka.pid"; then echo "kafka: running, PID $(cat "$KAFKA_RUN/kafka.pid"), 127.0.0.1:$KAFKA_PORT (Kafka $KAFKA_VERSION)"
  else echo "kafka: stopped"; fi
  if pid_alive "$ES_RUN/es.pid"; then echo "elasticsearch: running, PID $(cat "$ES_RUN/es.pid"), http://127.0.0.1:$ES_PORT (Elasticsearch $ES_VERSION)"
  else echo "elasticsearch: stopped"; fi
}

with_lock() { # one `up`/`down` at a time on the machine (the engines are launched with fd 9 closed: they must not hold it)
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock 9
  "$@"
}

command=${1:-}
target=${2:-all}
wipe=false
[ "${2:-}" = --wipe ] && { target=all; wipe=true; }
[ "${3:-}" = --wipe ] && wipe=true
case "$target" in all|kafka|elasticsearch) ;; *) die "unknown engine '$target' (kafka or elasticsearch)";; esac

do_up() {
  # Start both before waiting on either: their JVMs warm up in parallel.
  case "$target" in
    all) kafka_up & local kafka_job=$!; es_up; wait "$kafka_job" || exit 1;;
    kafka) kafka_up;;
    elasticsearch) es_up;;
  esac
}
do_down() {
  case "$target" in
    all) kafka_down; es_down;;
    kafka) kafka_down;;
    elasticsearch) es_down;;
  esac
  if $wipe; then
    case "$target" in all|kafka) rm -rf "$KAFKA_RUN/data";; esac
    case "$target" in all|elasticsearch) rm -rf "$ES_RUN/data";; esac
    say "data wiped"
  fi
}

case "$command" in
  up) with_lock do_up; print_env || true;;
  down) with_lock do_down;;
  env) print_env;;
  status) status;;
  *) echo "usage: $0 up|down [kafka|elasticsearch] [--wipe] | env | status" >&2; exit 2;;
esac
