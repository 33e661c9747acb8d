#!/usr/bin/env bash
# up.sh -- crossroom's test lab: a small real OpenStack (Debian 12 packages =
# OpenStack Zed) on 127.0.0.1, run as plain background processes (no systemd),
# with three tenant projects for the integration tests (see README.md here).
# Idempotent: re-running only (re)starts what is not running and only creates
# what does not exist; when everything already runs it returns in under a second.
#
#   Keystone (uwsgi, MariaDB)           127.0.0.1:5000
#   Placement (uwsgi, MariaDB)          127.0.0.1:8778
#   Glance API (eventlet, file store)   127.0.0.1:9292
#   Neutron server (ML2/OVS + L3 API)   127.0.0.1:9696   (no agents; one fake OVS agent report)
#   Nova api/conductor/scheduler/compute(fake.FakeDriver)  127.0.0.1:8774
#   Cinder api/scheduler/volume (fake driver shipped in python3-cinder)  127.0.0.1:8776
#   MariaDB 127.0.0.1:3306, RabbitMQ 127.0.0.1:5672 (epmd 127.0.0.1:4369, dist 127.0.0.1:25672)
#
# Needs root and apt (Debian 12). Data, logs, pids and the generated
# clouds.yaml/secure.yaml live in $CROSSROOM_LAB_DIR (default tests/lab/.lab).
# CROSSROOM_LAB_PYTHON: a python with openstacksdk for bootstrap.py (default: the
# project's .venv, else a venv made under the lab dir).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${CROSSROOM_LAB_DIR:-$HERE/.lab}
mkdir -p "$LAB"
ETC=$LAB/etc DATA=$LAB/data LOGS=$LAB/logs PIDS=$LAB/pids RUN=$LAB/run
PY=/usr/bin/python3            # Debian's python (the services' libs live there)
VENV=$LAB/venv                 # fallback venv with openstacksdk for bootstrap.py
ADMIN_PASS=${CROSSROOM_LAB_ADMIN_PASS:-secret}
DB=oslab DBPASS=oslab
DBURL="mysql+pymysql://$DB:$DBPASS@127.0.0.1:3306"
RABBIT="rabbit://guest:guest@127.0.0.1:5672/"
KS=http://127.0.0.1:5000
HOSTNAME_NOVA=oslab            # nova-compute 'host' == fake OVS agent host
CINDER=1
PHASE=db                       # db: write config + create schemas; start: start daemons
# venv interpreter: the caller's python3 (pyenv here), else Debian's
HOST_PY=$(command -v python3 || echo /usr/bin/python3)
SDK_PY=${CROSSROOM_LAB_PYTHON:-}
[ -z "$SDK_PY" ] && [ -x "$HERE/../../.venv/bin/python" ] && SDK_PY=$HERE/../../.venv/bin/python
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

T0=$(date +%s.%N)
mkdir -p "$ETC" "$DATA" "$LOGS" "$PIDS" "$RUN"
TIMINGS=$LAB/timings.txt
: > "$TIMINGS"
el() { echo "$(date +%s.%N) - $T0" | bc | xargs printf '%.1f'; }
mark() { local m="[$(el)s] $*"; echo "$m"; echo "$m" >> "$TIMINGS"; }

APT_PKGS="python3-keystone python3-neutron python3-nova python3-placement python3-glance
 rabbitmq-server mariadb-server python3-pymysql uwsgi-core uwsgi-plugin-python3 python3-venv curl bc"
[ "$CINDER" = 1 ] && APT_PKGS="$APT_PKGS python3-cinder"

# ---------------------------------------------------------------- install
install_pkgs() {
  local missing=""
  for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    # never let maintainer scripts start daemons; we start everything ourselves
    [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    local s; s=$(date +%s)
    apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
    echo "apt install took $(( $(date +%s) - s ))s" >> "$TIMINGS"
  fi
  mark "apt packages present"
  # paste pipelines are only shipped in the *-common service packages (whose
  # maintainer scripts use dbconfig-common/debconf): unpack them without installing.
  if [ ! -f "$ETC/nova/api-paste.ini" ] || [ ! -f "$ETC/neutron/api-paste.ini" ] || [ ! -f "$ETC/glance/glance-api-paste.ini" ] || [ ! -f "$ETC/cinder/api-paste.ini" ]; then
    mkdir -p "$LAB/pkgs" && ( cd "$LAB/pkgs" && rm -rf x ./*.deb &&
      apt-get download -q nova-common neutron-common glance-common cinder-common 2>/dev/null >/dev/null &&
      for f in ./*.deb; do dpkg-deb -x "$f" x; done )
    mkdir -p "$ETC/nova" "$ETC/neutron" "$ETC/glance" "$ETC/cinder"
    cp "$LAB/pkgs/x/usr/share/nova-common/api-paste.ini" "$ETC/nova/api-paste.ini"
    cp "$LAB/pkgs/x/usr/share/neutron-common/api-paste.ini" "$ETC/neutron/api-paste.ini"
    cp "$LAB/pkgs/x/usr/share/glance-common/glance-api-paste.ini" "$ETC/glance/glance-api-paste.ini"
    cp "$LAB/pkgs/x/usr/share/cinder-common/api-paste.ini" "$ETC/cinder/api-paste.ini"
  fi
  if [ -n "$SDK_PY" ] && "$SDK_PY" -c 'import openstack' 2>/dev/null; then
    :
  else
    if [ ! -x "$SDK_PY" ] || ! "$SDK_PY" -c 'import openstack' 2>/dev/null; then
      rm -rf "$VENV"; "$HOST_PY" -m venv "$VENV" && "$VENV/bin/pip" install -q openstacksdk
    fi
    SDK_PY=$VENV/bin/python
  fi
  mark "python with openstacksdk present: $SDK_PY"
}

# ---------------------------------------------------------------- helpers
running() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }
# start NAME cmd... : own session/process group (PGID == PID) so down.sh can
# stop the whole service (workers included) and nothing else.
start() {
  local name=$1; shift
  if running "$name"; then echo "  $name already running (pid $(cat "$PIDS/$name.pid"))"; return 0; fi
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
  echo "  started $name pid $!"
}
wait_port() {  # name port timeout
  local i
  for ((i = 0; i < $3 * 5; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null && return 0
    running "$1" || { echo "$1 died, see $LOGS/$1.log"; tail -20 "$LOGS/$1.log"; exit 1; }
    sleep 0.2
  done
  echo "timeout waiting for $1 on port $2"; tail -20 "$LOGS/$1.log"; exit 1
}
wait_http() {  # name url timeout  (any HTTP answer < 500 counts)
  local i code
  for ((i = 0; i < $3 * 5; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$2" || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ]; then return 0; fi
    running "$1" || { echo "$1 died, see $LOGS/$1.log"; tail -30 "$LOGS/$1.log"; exit 1; }
    sleep 0.2
  done
  echo "timeout waiting for $1 at $2"; tail -30 "$LOGS/$1.log"; exit 1
}
mysql_() { mariadb --no-defaults -S "$RUN/mysql/mysqld.sock" -uroot "$@"; }

authtoken() {  # keystonemiddleware + service credentials (the admin user, lab only)
cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KS/v3
auth_url = $KS/v3
memcached_servers =
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = admin
username = admin
password = $ADMIN_PASS
region_name = RegionOne
EOF
}
svcauth() {  # [section] used by one service to call another
cat <<EOF
[$1]
auth_type = password
auth_url = $KS/v3
project_domain_name = Default
user_domain_name = Default
project_name = admin
username = admin
password = $ADMIN_PASS
region_name = RegionOne
EOF
}

# ---------------------------------------------------------------- MariaDB
mariadb_up() {
  mkdir -p "$RUN/mysql" && chown mysql:mysql "$RUN/mysql"
  if [ ! -d "$DATA/mysql/mysql" ]; then
    mkdir -p "$DATA/mysql" && chown mysql:mysql "$DATA/mysql"
    mariadb-install-db --no-defaults --user=mysql --datadir="$DATA/mysql" \
      --auth-root-authentication-method=socket --skip-test-db > "$LOGS/mariadb-install.log" 2>&1
  fi
  start mariadb /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DATA/mysql" \
    --bind-address=127.0.0.1 --port=3306 --socket="$RUN/mysql/mysqld.sock" \
    --pid-file="$RUN/mysql/mysqld.pid" --innodb-buffer-pool-size=64M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-log-file-size=16M \
    --max-connections=1000 --skip-name-resolve --performance-schema=OFF \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
  wait_port mariadb 3306 60
  local i
  for ((i = 0; i < 50; i++)); do mysql_ -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
  mysql_ <<EOF
CREATE USER IF NOT EXISTS '$DB'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
CREATE USER IF NOT EXISTS '$DB'@'localhost' IDENTIFIED BY '$DBPASS';
CREATE DATABASE IF NOT EXISTS nova_api; CREATE DATABASE IF NOT EXISTS nova;
CREATE DATABASE IF NOT EXISTS nova_cell0; CREATE DATABASE IF NOT EXISTS placement;
CREATE DATABASE IF NOT EXISTS neutron; CREATE DATABASE IF NOT EXISTS glance;
CREATE DATABASE IF NOT EXISTS keystone; CREATE DATABASE IF NOT EXISTS cinder;
GRANT ALL PRIVILEGES ON *.* TO '$DB'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO '$DB'@'localhost';
EOF
  mark "MariaDB up"
}

# ---------------------------------------------------------------- RabbitMQ
rabbit_up() {
  mkdir -p "$DATA/rabbitmq" "$ETC/rabbitmq" "$LOGS/rabbitmq"
  cat > "$ETC/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:5672
loopback_users.guest = true
log.file.level = warning
vm_memory_high_watermark.absolute = 512MB
disk_free_limit.absolute = 50MB
EOF
  # epmd first, bound to loopback, in the foreground (so we own its pid)
  start epmd env ERL_EPMD_ADDRESS=127.0.0.1 /usr/bin/epmd -address 127.0.0.1
  wait_port epmd 4369 20
  start rabbitmq env HOME="$DATA/rabbitmq" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_DIST_PORT=25672 RABBITMQ_CONFIG_FILE="$ETC/rabbitmq/rabbitmq.conf" \
    RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$LOGS/rabbitmq" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$ETC/rabbitmq/enabled_plugins" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
  [ -f "$ETC/rabbitmq/enabled_plugins" ] || echo '[].' > "$ETC/rabbitmq/enabled_plugins"
  wait_port rabbitmq 5672 120
  mark "RabbitMQ up"
}

# ---------------------------------------------------------------- Keystone
keystone_up() {
  mkdir -p "$ETC/keystone" "$DATA/keystone" "$LAB/wsgi"
  cat > "$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
[database]
connection = $DBURL/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $DATA/keystone/fernet-keys
[fernet_receipts]
key_repository = $DATA/keystone/fernet-keys
[credential]
key_repository = $DATA/keystone/credential-keys
[cache]
enabled = false
EOF
  local KM="keystone-manage --config-file $ETC/keystone/keystone.conf"
  if [ ! -f "$DATA/keystone/.bootstrapped" ]; then
    $KM db_sync > "$LOGS/keystone-manage.log" 2>&1
    $KM fernet_setup --keystone-user root --keystone-group root >> "$LOGS/keystone-manage.log" 2>&1
    $KM credential_setup --keystone-user root --keystone-group root >> "$LOGS/keystone-manage.log" 2>&1
    $KM bootstrap --bootstrap-password "$ADMIN_PASS" --bootstrap-username admin \
      --bootstrap-project-name admin --bootstrap-role-name admin \
      --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
      --bootstrap-admin-url "$KS/v3/" --bootstrap-internal-url "$KS/v3/" \
      --bootstrap-public-url "$KS/v3/" >> "$LOGS/keystone-manage.log" 2>&1
    touch "$DATA/keystone/.bootstrapped"
  fi
  cat > "$LAB/wsgi/keystone.py" <<'EOF'
from keystone.server.wsgi import initialize_public_application
application = initialize_public_application()
EOF
  start keystone env OS_KEYSTONE_CONFIG_FILES="$ETC/keystone/keystone.conf" \
    uwsgi --plugin python3 --http-socket 127.0.0.1:5000 --add-header "Connection: close" --wsgi-file "$LAB/wsgi/keystone.py" \
    --master --die-on-term --need-app --processes 1 --threads 8 --buffer-size 65535 \
    --disable-logging --log-4xx --log-5xx
  wait_http keystone "$KS/v3" 60
  cat > "$LAB/admin-clouds.yaml" <<EOF
clouds:
  lab-admin:
    auth:
      auth_url: $KS/v3
      username: admin
      password: $ADMIN_PASS
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
EOF
  OS_CLIENT_CONFIG_FILE=$LAB/admin-clouds.yaml "$SDK_PY" "$HERE/bootstrap.py" catalog
  mark "Keystone up (+catalog)"
}

# ---------------------------------------------------------------- Placement
placement_up() {
  mkdir -p "$ETC/placement"
  { cat <<EOF
[DEFAULT]
use_stderr = true
[api]
auth_strategy = keystone
[placement_database]
connection = $DBURL/placement
EOF
    authtoken; } > "$ETC/placement/placement.conf"
  if [ "$PHASE" = db ] && [ ! -f "$DATA/.placement-db" ]; then
    placement-manage --config-file "$ETC/placement/placement.conf" db sync > "$LOGS/placement-manage.log" 2>&1
    touch "$DATA/.placement-db"
  fi
  [ "$PHASE" = start ] || return 0
  cat > "$LAB/wsgi/placement.py" <<'EOF'
from placement.wsgi import init_application
application = init_application()
EOF
  start placement env OS_PLACEMENT_CONFIG_DIR="$ETC/placement" \
    uwsgi --plugin python3 --http-socket 127.0.0.1:8778 --add-header "Connection: close" --wsgi-file "$LAB/wsgi/placement.py" \
    --master --die-on-term --need-app --processes 1 --threads 8 --buffer-size 65535 \
    --disable-logging --log-4xx --log-5xx
}

# ---------------------------------------------------------------- Glance
glance_up() {
  mkdir -p "$ETC/glance" "$DATA/glance/images" "$DATA/glance/staging" "$DATA/glance/tasks" "$DATA/glance/lock"
  { cat <<EOF
[DEFAULT]
use_stderr = true
bind_host = 127.0.0.1
bind_port = 9292
workers = 0
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks/
[database]
connection = $DBURL/glance
[paste_deploy]
flavor = keystone
config_file = $ETC/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $DATA/glance/lock
EOF
    authtoken; } > "$ETC/glance/glance-api.conf"
  if [ "$PHASE" = db ] && [ ! -f "$DATA/.glance-db" ]; then
    $PY -c 'import sys; from glance.cmd.manage import main; sys.exit(main())' \
      --config-file "$ETC/glance/glance-api.conf" db_sync > "$LOGS/glance-manage.log" 2>&1
    touch "$DATA/.glance-db"
  fi
  [ "$PHASE" = start ] || return 0
  start glance-api $PY -c 'import sys; from glance.cmd.api import main; sys.exit(main())' \
    --config-file "$ETC/glance/glance-api.conf"
}

# ---------------------------------------------------------------- Neutron
neutron_up() {
  mkdir -p "$ETC/neutron" "$DATA/neutron/lock"
  { cat <<EOF
[DEFAULT]
use_stderr = true
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
api_paste_config = $ETC/neutron/api-paste.ini
state_path = $DATA/neutron
transport_url = $RABBIT
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
allow_overlapping_ips = true
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
# one fake OVS agent report must keep the agent "alive" (max allowed value)
agent_down_time = 2147483
dhcp_agent_notification = false
[database]
connection = $DBURL/neutron
[oslo_concurrency]
lock_path = $DATA/neutron/lock
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
enable_security_group = true
[agent]
report_interval = 30
EOF
    authtoken; svcauth nova; } > "$ETC/neutron/neutron.conf"
  if [ "$PHASE" = db ] && [ ! -f "$DATA/.neutron-db" ]; then
    $PY -c 'import sys; from neutron.db.migration.cli import main; sys.exit(main())' \
      --config-file "$ETC/neutron/neutron.conf" upgrade heads > "$LOGS/neutron-db-manage.log" 2>&1
    touch "$DATA/.neutron-db"
  fi
  [ "$PHASE" = start ] || return 0
  start neutron-server $PY -c 'import sys; from neutron.cmd.eventlet.server import main; sys.exit(main())' \
    --config-file "$ETC/neutron/neutron.conf"
}

# ---------------------------------------------------------------- Nova
nova_conf() {
  mkdir -p "$ETC/nova" "$DATA/nova/instances" "$DATA/nova/lock"
  { cat <<EOF
[DEFAULT]
use_stderr = true
host = $HOSTNAME_NOVA
my_ip = 127.0.0.1
state_path = $DATA/nova
instances_path = $DATA/nova/instances
transport_url = $RABBIT
compute_driver = fake.FakeDriver
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
metadata_listen = 127.0.0.1
metadata_workers = 1
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[oslo_concurrency]
lock_path = $DATA/nova/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[spice]
enabled = false
[glance]
region_name = RegionOne
[cinder]
os_region_name = RegionOne
EOF
    authtoken; svcauth placement; svcauth neutron
    # OSSA-2023-003 fix in Debian's cinder: attachment deletes of in-use volumes
    # must carry a service token (user with role 'service') from nova
    svcauth service_user; echo "send_service_user_token = true"; } > "$ETC/nova/nova.conf"
  # DB URLs in a separate file: nova-compute must not see them (it would try
  # direct DB access: "No DB access allowed in nova-compute")
  cat > "$ETC/nova/nova-db.conf" <<EOF
[api_database]
connection = $DBURL/nova_api
[database]
connection = $DBURL/nova
EOF
}
novamanage() { $PY -c 'import sys; from nova.cmd.manage import main; sys.exit(main())' --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/nova-db.conf" "$@"; }
nova_db() {
  if [ ! -f "$DATA/.nova-db" ]; then
    {
      novamanage api_db sync
      novamanage cell_v2 map_cell0 --database_connection "$DBURL/nova_cell0"
      novamanage cell_v2 list_cells | grep -q ' cell1 ' || novamanage cell_v2 create_cell --name cell1
      novamanage db sync
    } > "$LOGS/nova-manage.log" 2>&1
    touch "$DATA/.nova-db"
  fi
}
nova_up() {
  local C="--config-file $ETC/nova/nova.conf" D="--config-file $ETC/nova/nova-db.conf"
  start nova-api $PY -c 'import sys; from nova.cmd.api import main; sys.exit(main())' $C $D
  start nova-conductor $PY -c 'import sys; from nova.cmd.conductor import main; sys.exit(main())' $C $D
  start nova-scheduler $PY -c 'import sys; from nova.cmd.scheduler import main; sys.exit(main())' $C $D
  start nova-compute $PY -c 'import sys; from nova.cmd.compute import main; sys.exit(main())' $C
}

# ---------------------------------------------------------------- Cinder (optional)
cinder_up() {
  mkdir -p "$ETC/cinder" "$DATA/cinder/lock"
  { cat <<EOF
[DEFAULT]
use_stderr = true
host = $HOSTNAME_NOVA
my_ip = 127.0.0.1
state_path = $DATA/cinder
transport_url = $RABBIT
auth_strategy = keystone
api_paste_config = $ETC/cinder/api-paste.ini
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
enabled_backends = fake
[fake]
# "Logs calls instead of executing": no LVM/iSCSI, volumes exist only in the DB
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
[database]
connection = $DBURL/cinder
[oslo_concurrency]
lock_path = $DATA/cinder/lock
[oslo_messaging_notifications]
driver = noop
EOF
    authtoken; svcauth nova; } > "$ETC/cinder/cinder.conf"
  if [ "$PHASE" = db ] && [ ! -f "$DATA/.cinder-db" ]; then
    $PY -c 'import sys; from cinder.cmd.manage import main; sys.exit(main())' \
      --config-file "$ETC/cinder/cinder.conf" db sync > "$LOGS/cinder-manage.log" 2>&1
    touch "$DATA/.cinder-db"
  fi
  [ "$PHASE" = start ] || return 0
  local C="--config-file $ETC/cinder/cinder.conf"
  start cinder-api $PY -c 'import sys; from cinder.cmd.api import main; sys.exit(main())' $C
  start cinder-scheduler $PY -c 'import sys; from cinder.cmd.scheduler import main; sys.exit(main())' $C
  start cinder-volume $PY -c 'import sys; from cinder.cmd.volume import main; sys.exit(main())' $C
}

# ---------------------------------------------------------------- main
install_pkgs
SERVICES="mariadb epmd rabbitmq keystone placement glance-api neutron-server nova-api nova-conductor nova-scheduler nova-compute"
[ "$CINDER" = 1 ] && SERVICES="$SERVICES cinder-api cinder-scheduler cinder-volume"
fast=1
for n in $SERVICES; do running "$n" || fast=0; done
if [ "$fast" = 1 ] && [ -f "$DATA/.ready" ] && [ -f "$LAB/clouds.yaml" ] && [ -f "$LAB/admin-clouds.yaml" ]; then
  # everything already up: only check that every API answers
  wait_http keystone http://127.0.0.1:5000/v3 30
  wait_http placement http://127.0.0.1:8778/ 30
  wait_http glance-api http://127.0.0.1:9292/versions 30
  wait_http neutron-server http://127.0.0.1:9696/ 30
  wait_http nova-api http://127.0.0.1:8774/ 30
  [ "$CINDER" = 1 ] && wait_http cinder-api http://127.0.0.1:8776/ 30
  mark "already up: all processes alive and all APIs answering; clouds at $LAB/clouds.yaml"
  exit 0
fi
rm -f "$DATA/.ready"
mariadb_up
rabbit_up
# config + DB schemas: the five schema jobs run in parallel with Keystone's
nova_conf
PHASE=db
jobs_db=()
placement_up & jobs_db+=($!)
glance_up & jobs_db+=($!)
neutron_up & jobs_db+=($!)
nova_db & jobs_db+=($!)
if [ "$CINDER" = 1 ]; then cinder_up & jobs_db+=($!); fi
keystone_up
for j in "${jobs_db[@]}"; do
  wait "$j" || { echo "a DB schema job failed, see $LOGS/*-manage.log"; exit 1; }
done
mark "DB schemas ready"
PHASE=start
placement_up
glance_up
neutron_up
nova_up
if [ "$CINDER" = 1 ]; then cinder_up; fi
wait_http placement http://127.0.0.1:8778/ 120
wait_http glance-api http://127.0.0.1:9292/versions 120
wait_http neutron-server http://127.0.0.1:9696/ 120
wait_http nova-api http://127.0.0.1:8774/ 180
if [ "$CINDER" = 1 ]; then
  wait_http cinder-api http://127.0.0.1:8776/ 120
  OS_CLIENT_CONFIG_FILE=$LAB/admin-clouds.yaml "$SDK_PY" "$HERE/bootstrap.py" catalog volumev3
fi
mark "ALL APIs answering (keystone, placement, glance, neutron, nova$([ "$CINDER" = 1 ] && echo ', cinder'))"

# fake OVS agent report so ML2/openvswitch can bind ports on host '$HOSTNAME_NOVA'
# (background: importing neutron takes ~8 s; runs while nova-compute registers)
(
  for i in 1 2 3 4 5 6; do
    if $PY "$HERE/fake_ovs_agent.py" --config-file "$ETC/neutron/neutron.conf" \
         --host "$HOSTNAME_NOVA" >> "$LOGS/fake-ovs-agent.log" 2>&1; then exit 0; fi
    sleep 5
  done
  exit 1
) & job_agent=$!

# wait for the nova-compute service to be up, map it into cell1, wait for its
# hypervisor (compute node) to be listed as up
sdk() { OS_CLIENT_CONFIG_FILE=$LAB/admin-clouds.yaml "$SDK_PY" - "$@"; }
sdk <<'EOF'
import openstack, sys, time
c = openstack.connect(cloud='lab-admin')
for i in range(240):
    if any(s.binary == 'nova-compute' and s.state == 'up' for s in c.compute.services()):
        sys.exit(0)
    time.sleep(0.5)
sys.exit('nova-compute service never came up')
EOF
novamanage cell_v2 discover_hosts --by-service --verbose >> "$LOGS/nova-manage.log" 2>&1
sdk <<'EOF'
import openstack, sys, time
c = openstack.connect(cloud='lab-admin')
for i in range(240):
    if any(h.status == 'enabled' and h.state == 'up' for h in c.compute.hypervisors()):
        sys.exit(0)
    time.sleep(0.5)
sys.exit('no hypervisor up')
EOF
mark "nova-compute registered (service up, host mapped, hypervisor up)"
wait "$job_agent" || { echo "fake OVS agent registration failed, see $LOGS/fake-ovs-agent.log"; exit 1; }
mark "fake OVS agent registered"

if [ "$CINDER" = 1 ]; then
# cinder-volume reports its pool to the scheduler some seconds after it starts; a volume
# asked for before that fails with "No valid backend was found"
sdk <<'EOF'
import openstack, sys, time
c = openstack.connect(cloud='lab-admin')
for i in range(360):
    try:
        if list(c.block_storage.backend_pools()):
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit('the cinder scheduler never saw a volume backend')
EOF
mark "cinder scheduler sees a volume backend"
fi

OS_CLIENT_CONFIG_FILE=$LAB/admin-clouds.yaml "$SDK_PY" "$HERE/bootstrap.py" resources
touch "$DATA/.ready"
mark "ready: projects lab-a, lab-b, lab-q in $LAB/clouds.yaml (+ secure.yaml); admin in $LAB/admin-clouds.yaml"
