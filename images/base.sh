#!/usr/bin/env bash
# Makes the local base image (Debian 12 minbase + Node.js, NGINX with its stream module, MariaDB, curl, openssl, a JRE for keytool) with
# debootstrap, for machines that cannot pull from a container registry. Makes it again when run
# (runtime/images.ts runs it when the image is missing or was made by another version of this script).
set -euo pipefail
name=${1:-carbon-labs/base:bookworm}
# The label the image carries: which version of this script made it (runtime/images.ts rebuilds on a change).
label=${2:-}
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
root=$(mktemp -d /var/tmp/carbon-labs-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "[images] debootstrap of $name (about a minute)"
debootstrap --variant=minbase \
  --include=nodejs,nginx-light,rsync,libnginx-mod-stream,curl,ca-certificates,openssl,mariadb-server,mariadb-client,iproute2,netcat-openbsd,openjdk-17-jre-headless \
  bookworm "$root" ${mirror:+"$mirror"} >/var/tmp/carbon-labs-debootstrap.log 2>&1 \
  || { echo "[images] debootstrap failed; see /var/tmp/carbon-labs-debootstrap.log"; tail -5 /var/tmp/carbon-labs-debootstrap.log; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import ${label:+--change "LABEL $label"} - "$name" >/dev/null
echo "[images] built $name"
