#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests and CI.
#   scripts/postgres-server.sh start DIR PORT   -> initdb DIR, start on 127.0.0.1:PORT, create database common_ground,
#                                                print its URL (user common_ground, password from PGPASSWORD or
#                                                "common_ground": a throwaway server's password, not a secret)
#   scripts/postgres-server.sh stop DIR
# initdb refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

command=${1:?usage: postgres-server.sh start|stop DIR [PORT]}
dir=${2:?data directory}
port=${3:-55432}
password=${PGPASSWORD:-common_ground}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/bash -c "$*"
    else
        bash -c "$*"
    fi
}

case "$command" in
    start)
        mkdir -p "$dir"
        # As root the server runs as `postgres`, which must be able to reach DIR: give a DIR whose
        # parents are world-traversable (e.g. one made by `mktemp -d /tmp/cg-postgres.XXXXXX`).
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 755 "$dir"; fi
        printf '%s\n' "$password" >"$dir/pwfile"
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/pwfile"; fi
        as_owner "initdb -D '$dir/data' --auth-local=trust --auth-host=scram-sha-256 --pwfile='$dir/pwfile' \
            -U common_ground >'$dir/initdb.log' 2>&1"
        rm -f "$dir/pwfile"
        # Nothing on a throwaway server outlives it, so it keeps nothing safe from a crash: no fsync, no waiting for
        # the write-ahead log at commit, no full pages in it.
        durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        # No JIT compilation, as the README advises for the warehouse (the HubSpot staging views' estimates make
        # every query over them compile, which cost a night's dbt build at scale S a third of its time).
        as_owner "pg_ctl -D '$dir/data' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 $durability -c jit=off\" -l '$dir/server.log' -w start >/dev/null"
        as_owner "psql -h '$dir' -p $port -U common_ground -d postgres -qc 'create database common_ground'"
        echo "postgresql://common_ground:$password@127.0.0.1:$port/common_ground"
        ;;
    stop)
        as_owner "pg_ctl -D '$dir/data' -m fast stop >/dev/null" || true
        ;;
    *)
        echo "unknown command $command" >&2
        exit 2
        ;;
esac
