#!/bin/sh
# The compose `certs` and `certs-renew` services: the cluster's throwaway CA and one
# certificate per order node (mutual TLS, CONTRACT §7), each node's key readable only
# by that node's user.
#
#   certs.sh DIR NAME:UID...          make what is missing or due, then exit
#   certs.sh --loop DIR NAME:UID...   the same now and every CERTS_CHECK_EVERY_S
#
# A node certificate is (re)made when it or its key is missing, when it expires within
# CERTS_RENEW_DAYS, or when it is not signed by the current CA; the CA when it expires
# within CERTS_RENEW_DAYS (then every node certificate is remade). Files are swapped in
# by rename, and the nodes read them at each new TLS connection, so renewal needs no
# restart. DIR/ca.key belongs to root, mode 0400: no node can mint certificates.
set -eu
lib=$(dirname "$0")/cluster_certs.sh
renew_days=${CERTS_RENEW_DAYS:-10}
every=${CERTS_CHECK_EVERY_S:-43200}
export CLUSTER_CA_DAYS="${CLUSTER_CA_DAYS:-3650}" CLUSTER_CERT_DAYS="${CLUSTER_CERT_DAYS:-30}"

# due CERT: missing, unreadable or expiring within renew_days.
due() {
  [ -s "$1" ] || return 0
  ! openssl x509 -in "$1" -noout -checkend $((renew_days * 86400)) >/dev/null 2>&1
}

# issue DIR NAME UID: a new key and certificate for NAME, made aside, then renamed in.
issue() {
  stage=$(mktemp -d "$1/.stage.XXXXXX")
  cp -p "$1/ca.pem" "$1/ca.key" "$stage/"
  sh "$lib" "$stage" "$2"
  chown "$3:$3" "$stage/$2.key"
  chmod 0400 "$stage/$2.key"
  mv -f "$stage/$2.key" "$1/$2.key"
  mv -f "$stage/$2.pem" "$1/$2.pem"
  rm -rf "$stage"
  echo "certs: issued $2 (uid $3), valid $CLUSTER_CERT_DAYS days"
}

once() {
  dir=$1
  shift
  mkdir -p "$dir"
  chmod 0755 "$dir"
  new_ca=0
  if due "$dir/ca.pem" || [ ! -s "$dir/ca.key" ]; then
    stage=$(mktemp -d "$dir/.stage.XXXXXX")
    CLUSTER_CERT_DAYS=1 sh "$lib" "$stage" ca-probe # the library makes a CA with a first name
    chmod 0400 "$stage/ca.key"
    chown 0:0 "$stage/ca.key"
    mv -f "$stage/ca.key" "$dir/ca.key"
    mv -f "$stage/ca.pem" "$dir/ca.pem"
    rm -rf "$stage"
    new_ca=1
    echo "certs: new cluster CA, valid $CLUSTER_CA_DAYS days"
  fi
  chown 0:0 "$dir/ca.key" "$dir/ca.pem"
  chmod 0400 "$dir/ca.key"
  chmod 0644 "$dir/ca.pem"
  for spec in "$@"; do
    name=${spec%%:*}
    uid=${spec#*:}
    if [ "$new_ca" = 1 ] || [ ! -s "$dir/$name.key" ] || due "$dir/$name.pem" ||
      ! openssl verify -CAfile "$dir/ca.pem" "$dir/$name.pem" >/dev/null 2>&1; then
      issue "$dir" "$name" "$uid"
    else
      # Keep ownership right for certificates made by an older version of this script.
      chown "$uid:$uid" "$dir/$name.key"
      chmod 0400 "$dir/$name.key"
    fi
  done
  rm -f "$dir/ca.srl"
}

loop=0
if [ "${1:-}" = --loop ]; then
  loop=1
  shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--loop] DIR NAME:UID..." >&2; exit 2; }
once "$@"
while [ "$loop" = 1 ]; do
  sleep "$every"
  once "$@"
done
