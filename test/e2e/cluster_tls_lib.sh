# TLS helpers for the cluster e2e tests (CONTRACT §7). Sourced after lib.sh.
: "${FLASHSALE_SOURCE_DIR:?FLASHSALE_SOURCE_DIR must name the source tree}"
: "${FLASHSALE_TOOLS_DIR:?FLASHSALE_TOOLS_DIR must name the tools directory of the build}"
STRANGER="$FLASHSALE_TOOLS_DIR/flashsale-cluster-stranger"

# make_certs DIR NAME...: a throwaway CA in DIR and a certificate per NAME.
make_certs() { sh "$FLASHSALE_SOURCE_DIR/tools/cluster_certs.sh" "$@"; }

# tls_env DIR NAME: the CLUSTER_TLS_* assignments for node NAME of the CA in DIR.
tls_env() { echo "CLUSTER_TLS_CA=$1/ca.pem CLUSTER_TLS_CERT=$1/$2.pem CLUSTER_TLS_KEY=$1/$2.key"; }

# caf_port DB NODE_ID: the cluster port the node registered.
caf_port() { sql "$1" "SELECT caf_port FROM cluster_nodes WHERE node_id = '$2'"; }

# stranger [VAR=value...] -- HOST PORT COMMAND ORDER [TYPE]: runs the stranger tool,
# its output in STRANGER_OUT, its exit code in STRANGER_RC.
stranger() {
  local vars=()
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  set +e
  STRANGER_OUT=$(env -u CLUSTER_TLS_CA -u CLUSTER_TLS_CERT -u CLUSTER_TLS_KEY "${vars[@]}" \
    "$STRANGER" "$@" 2>&1)
  STRANGER_RC=$?
  set -e
}
