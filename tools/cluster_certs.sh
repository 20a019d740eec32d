#!/bin/sh
# A throwaway CA and one certificate per node for mutual TLS between nodes (CONTRACT §7),
# made with the openssl command-line tool. POSIX sh: dev.sh, the e2e tests and the
# docker compose `certs` service run it.
#
#   tools/cluster_certs.sh DIR NAME...
#
# writes DIR/ca.pem and DIR/ca.key (kept when present, so that nodes made later trust
# the same CA), and DIR/NAME.pem, DIR/NAME.key for each NAME (the certificate's common
# name and DNS subject alternative name). Keys are EC P-256, unencrypted, mode 0600;
# certificates are valid for CLUSTER_CERT_DAYS, the CA for CLUSTER_CA_DAYS (both default
# 30; docker/certs.sh renews them). For production, bring your own (docs/OPERATIONS.md).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
umask 077
ca_days=${CLUSTER_CA_DAYS:-30}
days=${CLUSTER_CERT_DAYS:-30}
if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$ca_days" \
    -subj "/CN=flashsale-cluster-ca-$(date +%s)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
for name in "$@"; do
  ext="$dir/$name.ext"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:$name" >"$ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/$name.pem" -days "$days" -extfile "$ext" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
done
chmod 0644 "$dir"/*.pem
