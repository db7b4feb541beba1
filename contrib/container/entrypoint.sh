#!/bin/sh
# Entrypoint of the mpc-indexer TEE image (contrib/container/Dockerfile).
#
# 1. Writes the secret keys it is given in the environment to files the daemon's
#    configuration points at (mode 0600, in MPCI_SECRETS_DIR, default
#    /run/mpc-indexer/secrets), and removes them from the environment the daemon
#    sees.  It logs the names of what it wrote, never a value.
# 2. Warns when tee-attester would need the dstack agent and its socket is missing.
# 3. Runs mpc-indexer with the arguments given (default: run), configured by
#    $MPC_INDEXER_CONFIG and MPC_INDEXER_<SECTION>__<KEY> variables.
set -eu
umask 077

secrets=${MPCI_SECRETS_DIR:-/run/mpc-indexer/secrets}

say() {
	printf 'entrypoint: %s\n' "$*" >&2
}

# put_secret VAR FILE: the value of $VAR, if set, becomes $secrets/FILE; VAR is unset.
put_secret() {
	eval "value=\${$1-}"
	if [ -z "$value" ]; then
		return 0
	fi
	mkdir -p "$secrets"
	# printf is a shell builtin: the value is never on a command line.
	printf '%s\n' "$value" > "$secrets/.$2.tmp"
	mv -f "$secrets/.$2.tmp" "$secrets/$2"
	value=
	unset "$1"
	say "$1 written to $secrets/$2"
}

put_secret MPCI_SIGNER_KEY signer_key
put_secret MPCI_BACKUP_TLS_KEY backup_tls_key
put_secret MPCI_BACKUP_TRANSPORT_KEY backup_transport_key
put_secret MPCI_BACKUP_STORAGE_KEY backup_storage_key

mode=${MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE:-dstack}
sock=${MPC_INDEXER_PLUGIN_TEE_ATTESTER__DSTACK_SOCKET:-/var/run/dstack.sock}
if [ "$mode" != mock ] && [ ! -S "$sock" ]; then
	say "warning: $sock is not a socket: mount the dstack agent's socket" \
	    "(-v /var/run/dstack.sock:/var/run/dstack.sock), or set" \
	    "MPC_INDEXER_PLUGIN_TEE_ATTESTER__MODE=mock on a network without TEEs"
fi

# Names only: values may hold API keys.
overrides=$(env | sed -n 's/^\(MPC_INDEXER_[A-Z0-9_]*__[A-Z0-9_]*\)=.*/\1/p' | sort | tr '\n' ' ')
say "configuration ${MPC_INDEXER_CONFIG:-(built-in default path)}; overridden from the environment: ${overrides:-nothing}"

if [ $# -eq 0 ]; then
	set -- run
fi
exec mpc-indexer "$@"
