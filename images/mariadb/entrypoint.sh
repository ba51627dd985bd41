#!/bin/sh
# Mirrors the mysql image's contract: on an empty data directory, create it, set the root
# password, run /docker-entrypoint-initdb.d/* against a server with networking off, then start.
set -eu
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock
: "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD must be set}"
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld "$datadir"
cat >/etc/mysql/mariadb.conf.d/99-carbon-labs.cnf <<CNF
[mysqld]
bind-address = 0.0.0.0
max_connections = 1000
skip-name-resolve
[client]
socket = $socket
CNF
if [ ! -d "$datadir/mysql" ]; then
  echo "db: initialising $datadir"
  mariadb-install-db --skip-test-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal >/dev/null
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 60); do mariadb-admin --socket="$socket" ping >/dev/null 2>&1 && break; sleep 0.5; done
  mariadb --socket="$socket" -uroot <<SQL
DELETE FROM mysql.global_priv WHERE NOT (User = 'root' AND Host = 'localhost') AND User <> 'mariadb.sys';
FLUSH PRIVILEGES;
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "db: running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) echo "db: running $f"; mariadb --socket="$socket" -uroot -p"$MYSQL_ROOT_PASSWORD" <"$f" ;;
      *) ;;
    esac
  done
  kill "$pid"; wait "$pid" || true
  echo "db: initialisation done"
fi
# Arguments are server options, as with the mysql image (e.g. --max-connections=1000).
exec mariadbd --user=mysql --datadir="$datadir" --socket="$socket" "$@"
