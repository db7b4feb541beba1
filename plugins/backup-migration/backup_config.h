/* The keys of the [plugin.backup-migration] section, shared by the plugin and
 * by `mpc-indexer backup` (which reads the same section without loading the
 * plugin).  X(name, TYPE, default, help); TYPE is the suffix of both
 * MPCI_CFG_* and the daemon's CFG_*, which list the same kinds in the same
 * order.  Documented in README.md. */
#ifndef BACKUP_CONFIG_H
#define BACKUP_CONFIG_H

#define BACKUP_SECTION "plugin.backup-migration"

#define BACKUP_CONFIG_KEYS(X)                                                              \
	X("account_id", STR, NULL,                                                         \
	  "the operator's NEAR account: the participant whose keyshares are kept")          \
	X("tls_key_file", PATH, NULL,                                                      \
	  "this service's ed25519 key (NEAR key file); its public key is the one registered") \
	X("transport_key_file", PATH, NULL,                                                \
	  "64 hex digits: the node's backup_encryption_key (AES-256-GCM on the wire)")      \
	X("storage_key_file", PATH, NULL,                                                  \
	  "64 hex digits: the key that encrypts backups at rest")                          \
	X("backup_dir", PATH, NULL,                                                        \
	  "where backups live (default STATE_DIR/backup-migration), mode 0700")            \
	X("retention", UINT, "3", "how many epochs to keep (0 = all)")                     \
	X("migration_port", UINT, "8079",                                                  \
	  "the nodes' migration port (their migration_web_ui)")                            \
	X("node_host", STR, NULL,                                                          \
	  "reach this node's migration port at this host, not its participant URL's")      \
	X("request_timeout", DURATION, "30s", "limit for one exchange with a node")        \
	X("max_response", SIZE, "16M", "largest answer accepted from a node")              \
	X("retry_interval", DURATION, "60s",                                               \
	  "first retry after a failure; doubles up to retry_max")                          \
	X("retry_max", DURATION, "10m", "longest wait between retries")                    \
	X("repush_interval", DURATION, "30s",                                              \
	  "while a migration lasts, push the keyshares again this often")                  \
	X("poll_interval", DURATION, NULL,                                                 \
	  "how often to view state and migration_info (default: the daemon's)")            \
	X("register", BOOL, "no",                                                          \
	  "call register_backup_service when the contract lacks this service's key")       \
	X("signer", STR, NULL, "the [signer.NAME] that registers (default: the only one)")

#endif
