/* nearsim: shared types of the simulated chain. One mutex (chain.mu) guards everything below;
 * rendered documents (struct ns_buf) are immutable and refcounted so they outlive the lock. */
#ifndef NEARSIM_H
#define NEARSIM_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jw.h"
#include "map.h"
#include "prim.h"

#define NS_MAX_SHARDS 64
#define NS_YIELD_TIMEOUT_BLOCKS 200
#define NS_NONCE_MULT 1000000ULL
#define NS_GAS_PRICE 100000000ULL
#define NS_TGAS 1000000000000ULL

/* ---------- configuration (main.c) ---------- */
struct ns_config {
	const char *listen;
	int port;
	const char *port_file;
	uint64_t seed;
	unsigned block_ms;        /* 0 = manual production only */
	int shards;
	uint64_t genesis_height;
	uint64_t genesis_time_ns; /* 0 = wall clock at start (timed mode) */
	const char *chain_id;
	const char *genesis_path;
	const char *contract_id;
	int participants;
	int threshold;
	int users;
	int bg_tx;                /* background transactions per chunk */
	int bg_log_bytes;         /* log bytes per background receipt outcome */
	size_t bg_target_bytes;   /* grow background traffic until a block document has this size */
	double sign_rate;         /* simulated user sign requests per block */
	double ckd_rate;          /* simulated user CKD requests per block */
	bool auto_respond;
	int respond_delay;        /* blocks between request and auto response */
	uint64_t reshare_every;   /* blocks; 0 = only on command */
	int reshare_blocks;       /* blocks a resharing lasts */
	uint64_t tx_validity;     /* transaction_validity_period in blocks */
	unsigned tx_timeout_ms;   /* server-side wait of send_tx/tx before TIMEOUT_ERROR */
	unsigned neardata_wait_ms;
	uint64_t keep_blocks;     /* blocks kept for queries */
	double skip_rate, fork_rate;
	bool stall;
	bool quiet;
};

/* ---------- transactions and receipts ---------- */
enum ns_status { ST_UNKNOWN, ST_VALUE, ST_RECEIPT, ST_FAILURE };

struct ns_outcome {
	char *executor;
	char **logs;
	int nlogs;
	uint8_t (*receipt_ids)[32];
	int nreceipt_ids;
	uint64_t gas_burnt;
	u128 tokens_burnt;
	int status;
	uint8_t *value;           /* SuccessValue bytes */
	size_t value_len;
	uint8_t next[32];         /* SuccessReceiptId */
	char *failure;            /* JSON of the object under "Failure" */
};

enum ns_act {
	ACT_CREATE_ACCOUNT = 0, ACT_DEPLOY = 1, ACT_FUNCTION_CALL = 2, ACT_TRANSFER = 3,
	ACT_STAKE = 4, ACT_ADD_KEY = 5, ACT_DELETE_KEY = 6, ACT_DELETE_ACCOUNT = 7,
};

struct ns_perm {
	bool full;
	bool has_allowance;
	u128 allowance;
	char *receiver;
	char **methods;
	int nmethods;
};

struct ns_action {
	int type;
	char *method;
	uint8_t *args;            /* FunctionCall args, DeployContract code */
	size_t args_len;
	uint64_t gas;
	u128 deposit;
	uint8_t pk[32];           /* AddKey / DeleteKey / Stake */
	uint64_t ak_nonce;        /* AddKey */
	struct ns_perm perm;      /* AddKey */
	char *beneficiary;        /* DeleteAccount */
};

struct ns_tx;

/* What a receipt is for the contract model (set when it is created). */
enum ns_rkind { RK_PLAIN, RK_YIELD_CALLBACK, RK_FAIL_ON_TIMEOUT, RK_BG, RK_REFUND };

struct ns_receipt {
	uint8_t id[32];
	char *predecessor, *receiver, *signer;
	uint8_t signer_pk[32];
	struct ns_action *actions;
	int nactions;
	bool is_yield;
	bool has_data_id;
	uint8_t data_id[32];
	int kind;                 /* enum ns_rkind */
	struct ns_tx *tx;         /* originating transaction */
	uint64_t exec_at;         /* executes in the first block with height >= exec_at */
	bool executed;
	uint64_t exec_height;
	int from_shard;           /* shard whose chunk created it (-1: created by a yield resume) */
	bool local;               /* signer == receiver: executed in the creating chunk */
	bool bg;                  /* background traffic: owned by the block that executes it */
	bool in_sched;
	bool forgotten;            /* its transaction was garbage collected */
	bool has_tx_hash;
	uint8_t tx_hash[32];      /* originating transaction (neardata tx_hash) */
	struct ns_outcome out;
	/* contract model: the pending request this callback belongs to */
	struct ns_request *req;
	bool timed_out;
	uint8_t *resume_value;    /* the response passed to promise_yield_resume */
	size_t resume_len;
};

struct ns_tx {
	uint8_t hash[32];
	char *signer, *receiver;
	uint8_t pk[32];
	uint64_t nonce;
	uint8_t block_hash[32];
	struct ns_action *actions;
	int nactions;
	uint8_t sig[64];
	uint8_t *raw;
	size_t raw_len;
	bool included;
	uint64_t height;
	int shard;
	bool bg;
	bool dropped;             /* failed validation at inclusion */
	bool sig_checked, sig_ok; /* the signature was verified (before the chain lock) */
	/* the signer's balance and key after the block that included it: its state changes in the
	 * block document, which is rendered when first asked for */
	bool doc_snap, doc_has_key;
	u128 doc_amount;
	struct ns_perm doc_perm;
	int exec_count;           /* how many times it was included (must stay <= 1) */
	struct ns_outcome out;
	struct ns_receipt **tree; /* every receipt it caused, in creation order */
	int ntree, captree;
	int outstanding;          /* receipts created but not executed yet (refunds excluded) */
	int refunds_pending;      /* gas refund receipts not executed yet */
};

/* ---------- blocks ---------- */
struct ns_buf {
	char *data;
	size_t len;
	int ref;                  /* atomic */
	struct ns_buf *parent;    /* a slice: data lies in parent's, which it holds */
};

struct ns_buf *buf_new(char *data, size_t len); /* takes ownership of data; ref = 1 */
struct ns_buf *buf_slice(struct ns_buf *parent, size_t off, size_t len); /* ref = 1 */
struct ns_buf *buf_ref(struct ns_buf *b);
void buf_unref(struct ns_buf *b);

struct ns_vec {
	void **v;
	int n, cap;
};
int vec_push(struct ns_vec *v, void *p);
void vec_free(struct ns_vec *v);

struct ns_chunkc {
	struct ns_vec txs;        /* struct ns_tx * included in this chunk */
	struct ns_vec execd;      /* struct ns_receipt * executed in this shard in this block */
	struct ns_vec outgoing;   /* receipts created by the previous chunk (chunk.receipts) */
	struct ns_vec local;      /* local receipts (neardata chunk.local_receipts) */
	uint64_t gas_used;
	u128 balance_burnt;
};

struct ns_cstate;

struct ns_block {
	uint64_t height, prev_height;
	uint8_t hash[32], prev_hash[32], random[32];
	uint8_t last_final[32], last_ds_final[32];
	uint64_t last_final_height, last_ds_final_height;
	uint64_t ts_ns;
	uint64_t ordinal;
	int version;              /* 0, or > 0 for a block that replaced an optimistic one */
	bool canonical;
	int nshards;
	struct ns_chunkc *content;
	uint8_t (*chunk_hash)[32];
	struct ns_buf *doc;       /* StreamerMessage (neardata) */
	struct ns_buf *view;      /* BlockView (RPC block) */
	struct ns_buf **chunk;    /* ChunkView per shard (RPC chunk) */
	struct ns_buf **shard;    /* IndexerShard per shard (neardata /shard/) */
	struct ns_cstate *cstate; /* contract state after this block */
	struct ns_block *replaced_by;
};

/* ---------- accounts ---------- */
#define NS_KEY_HIST 16
struct ns_key {
	uint8_t pk[32];
	uint64_t nonce;           /* at the head */
	struct ns_perm perm;
	/* the last nonce changes, oldest first: before block hist_h[i] the nonce was hist_n[i],
	 * so a view at an older block (finality final) shows that block's nonce */
	uint64_t hist_h[NS_KEY_HIST], hist_n[NS_KEY_HIST];
	int nhist;
};

struct ns_account {
	char *id;
	u128 amount;
	struct ns_key *keys;
	int nkeys;
	bool has_code;
};

/* ---------- faults ---------- */
enum ns_kind { KIND_RPC, KIND_NEARDATA, KIND_COUNT };
enum ns_fclass { F_5XX, F_429, F_TIMEOUT, F_RESET, F_TRUNCATE, F_INVALID_JSON, F_COUNT };

struct ns_faults {
	unsigned latency_ms[KIND_COUNT];
	double rate[KIND_COUNT][F_COUNT];
	uint64_t lag_blocks[KIND_COUNT];
	unsigned hang_ms;         /* how long a neardata "timeout" holds the request */
	uint64_t injected[KIND_COUNT][F_COUNT];
	uint64_t rng;
};

/* ---------- the chain ---------- */
struct ns_chain {
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* broadcast after every produced block */
	const struct ns_config *cfg;
	char chain_id[64];
	char contract_id[65];
	uint64_t genesis_height;
	uint64_t genesis_time_ns;
	uint8_t genesis_hash[32];
	struct ns_block **by_height; /* canonical block per height - genesis_height (NULL: skipped) */
	size_t nheights, capheights;
	uint64_t head_height, final_height, gc_below;
	struct ns_vec orphans;    /* replaced blocks, still reachable by hash */
	struct ns_map blocks;     /* hash -> block, every version */
	struct ns_map txs;        /* hash -> tx (not background) */
	struct ns_map receipts;   /* id -> receipt (not background) */
	struct ns_map chunks;     /* chunk hash -> block */
	bool auto_respond;
	struct ns_vec pool;       /* submitted, not yet included */
	struct ns_vec sched;      /* receipts waiting for execution */
	struct ns_vec owned_txs, owned_receipts;
	struct ns_account *accounts;
	int naccounts, capaccounts;
	struct ns_cstate *contract; /* current (head) contract state; blocks keep snapshots */
	uint64_t rng;
	/* chain faults */
	bool stall;
	double skip_rate, fork_rate;
	int skip_next, fork_next;
	bool fork_pending;
	/* statistics */
	uint64_t produced, skipped, forks, txs_included, receipts_executed;
	uint64_t served[KIND_COUNT];
	size_t last_doc_bytes;
	struct ns_faults faults;
	bool stopping;
	/* background traffic sizing */
	int bg_tx;
	struct ns_vec outgoing_next; /* receipts created in this block, shipped with the next chunk */
	uint64_t traffic_rng;
	uint64_t user_nonce_seq;
	uint64_t requests_made, responses_sent, timeouts;
};

extern struct ns_chain g_chain;

/* chain.c */
int chain_init(struct ns_chain *c, const struct ns_config *cfg);
void chain_free(struct ns_chain *c);
int chain_produce(struct ns_chain *c, int n);           /* mu held; returns blocks produced */
struct ns_block *chain_at(struct ns_chain *c, uint64_t h); /* canonical block at h or NULL */
struct ns_block *chain_head(struct ns_chain *c);
struct ns_block *chain_final(struct ns_chain *c);
struct ns_block *chain_by_hash(struct ns_chain *c, const uint8_t h[32]);
/* the block an endpoint of this kind shows as head / final (lagging node fault) */
struct ns_block *chain_visible_head(struct ns_chain *c, int kind);
struct ns_block *chain_visible_final(struct ns_chain *c, int kind);
struct ns_block *chain_at_or_below(struct ns_chain *c, uint64_t h);
bool chain_is_final(struct ns_chain *c, const struct ns_block *b);
void chain_wait(struct ns_chain *c, unsigned ms);       /* mu held: wait for a block or timeout */
void chain_shard_of(struct ns_chain *c, const char *account, int *shard);
int chain_shard(const struct ns_chain *c, const char *account);
void receipt_id_derive(uint8_t out[32], const uint8_t parent[32], uint32_t index);

/* accounts.c */
struct ns_account *acct_find(struct ns_chain *c, const char *id);
struct ns_account *acct_add(struct ns_chain *c, const char *id, u128 amount);
struct ns_key *acct_key(struct ns_account *a, const uint8_t pk[32]);
int acct_add_key(struct ns_account *a, const uint8_t pk[32], uint64_t nonce, const struct ns_perm *perm);
void key_set_nonce(struct ns_key *k, uint64_t height, uint64_t nonce); /* a tx included at height */
uint64_t key_nonce_at(const struct ns_key *k, uint64_t height);       /* the nonce after block height */
void acct_del_key(struct ns_account *a, const uint8_t pk[32]);
void acct_free_all(struct ns_chain *c);
void perm_free(struct ns_perm *p);
int perm_copy(struct ns_perm *dst, const struct ns_perm *src);
/* Deterministic keys: "<account>" is the full-access key, "<account>:signer" a function-call
 * key for the contract, "<account>:tls" the node's TLS (p2p) key. */
void key_for(const char *account, const char *role, uint8_t pk[32], uint8_t sk[64]);
int genesis_load(struct ns_chain *c, const char *path, char *err, size_t errlen);
int genesis_default(struct ns_chain *c);
char *genesis_dump(struct ns_chain *c);
int print_key(const char *account, const char *role);
const char *participant_name(int i, char *buf, size_t cap);

/* txexec.c */
void tx_free(struct ns_tx *t);
void receipt_free(struct ns_receipt *r);
void outcome_free(struct ns_outcome *o);
void action_free(struct ns_action *a);
/* Decode a SignedTransaction; on error fills err (a human-readable reason). */
struct ns_tx *tx_decode(const uint8_t *raw, size_t len, char *err, size_t errlen);
/* Validate against the chain; on failure writes the InvalidTxError JSON into errjson. */
int tx_validate(struct ns_chain *c, struct ns_tx *t, struct jw *errjson, bool at_inclusion);
/* Submit: returns the tx that the chain tracks (maybe an earlier one with the same hash). */
struct ns_tx *tx_submit(struct ns_chain *c, struct ns_tx *t, struct jw *errjson, int *rc);
void tx_include(struct ns_chain *c, struct ns_block *b, struct ns_tx *t);
void receipts_execute_due(struct ns_chain *c, struct ns_block *b);
struct ns_receipt *receipt_new(struct ns_chain *c, struct ns_tx *tx, const uint8_t parent[32],
			       uint32_t index, const char *pred, const char *recv);
void receipt_schedule(struct ns_chain *c, struct ns_receipt *r, uint64_t at);
void outcome_add_receipt(struct ns_outcome *o, const uint8_t id[32]);
void outcome_log(struct ns_outcome *o, const char *s);
void outcome_value(struct ns_outcome *o, const void *v, size_t n);
void outcome_fail_panic(struct ns_outcome *o, const char *msg);
void outcome_fail_json(struct ns_outcome *o, const char *json);
int tx_final_level(struct ns_chain *c, const struct ns_tx *t); /* enum ns_level */
void tx_render_status(struct ns_chain *c, struct jw *w, const struct ns_tx *t, bool with_receipts, int level);
enum ns_level { LV_NONE, LV_INCLUDED, LV_EXECUTED_OPTIMISTIC, LV_INCLUDED_FINAL, LV_EXECUTED, LV_FINAL };
int level_parse(const char *s);
const char *level_name(int lv);
bool level_meets(int have, int want);

/* doc.c */
void doc_chunk_hashes(struct ns_block *b);                /* at production */
void doc_snapshot(struct ns_chain *c, struct ns_block *b); /* at production: what later changes */
void doc_render_block(struct ns_chain *c, struct ns_block *b);
void doc_ensure(struct ns_chain *c, struct ns_block *b);  /* render on first use (mu held) */
void doc_outcome_with_id(struct jw *w, const uint8_t id[32], const uint8_t block_hash[32],
			 const struct ns_outcome *o, int metadata_version);
void doc_receipt_view(struct jw *w, const struct ns_receipt *r);
void doc_tx_view(struct jw *w, const struct ns_tx *t);
void doc_action(struct jw *w, const struct ns_action *a);

/* traffic.c */
void traffic_execute_bg(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r);
void traffic_block(struct ns_chain *c, struct ns_block *b);
struct ns_tx *traffic_user_request(struct ns_chain *c, const char *kind, const char *user,
				   const char *path, char *err, size_t errlen);
uint8_t *traffic_sign(struct ns_chain *c, const char *signer, const char *role,
		      const char *receiver, const char *method, const uint8_t *args, size_t al,
		      uint64_t gas, u128 deposit, uint64_t nonce, const uint8_t *block_hash, size_t *len);
struct ns_tx *traffic_signed_call(struct ns_chain *c, const char *signer, const char *role,
				  const char *receiver, const char *method, const char *args,
				  uint64_t gas, u128 deposit);

/* contract.c */
struct ns_request;
struct ns_cstate *cstate_new_default(struct ns_chain *c);
struct ns_cstate *cstate_clone(const struct ns_cstate *s);
struct ns_cstate *cstate_ref(struct ns_cstate *s);
void cstate_unref(struct ns_cstate *s);
/* A view call; returns 0 and the result bytes in *out (malloc) or -1 and a panic message. */
int contract_view(struct ns_chain *c, const struct ns_cstate *s, const char *method,
		  const uint8_t *args, size_t args_len, uint64_t height,
		  char **out, size_t *out_len, struct ns_outcome *logs, char *err, size_t errlen);
/* Execute a FunctionCall receipt on the contract (head state). */
void contract_call(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r, const struct ns_action *a);
void contract_callback(struct ns_chain *c, struct ns_block *b, struct ns_receipt *r);
void contract_block(struct ns_chain *c, struct ns_block *b);  /* per-block work: timeouts, resharing, auto-respond */
int contract_reshare(struct ns_chain *c);
int contract_drop_attestation(struct ns_chain *c, const char *tls_pk_or_account);
void contract_stats(struct ns_chain *c, struct jw *w);
int contract_load_genesis(struct ns_chain *c, void *cjson_contract_obj, char *err, size_t errlen);
void contract_genesis_dump(struct ns_chain *c, struct jw *w);
void contract_pending_list(struct ns_chain *c, struct jw *w);

/* http replies, filled by the handlers (server.c sends them) */
struct ns_reply {
	int status;
	const char *ctype;
	struct ns_buf *buf;       /* shared body, or */
	char *body;               /* owned body */
	size_t len;
	char location[96];
	const char *cache_control;
	const char *retry_after;
};
void reply_json(struct ns_reply *r, int status, char *body, size_t len); /* takes body */
void reply_text(struct ns_reply *r, int status, const char *ctype, const char *text);
void reply_buf(struct ns_reply *r, int status, struct ns_buf *b);

/* rpc.c, neardata.c, admin.c (rpc_handle takes the chain lock itself; the others need it held) */
void rpc_handle(struct ns_chain *c, const char *body, size_t len, struct ns_reply *r);
void rpc_status_get(struct ns_chain *c, struct ns_reply *r);
char *rpc_request_id(const char *body, size_t len);
void neardata_handle(struct ns_chain *c, const char *url, struct ns_reply *r);
void admin_handle(struct ns_chain *c, const char *method, const char *url,
		  const char *(*arg)(void *cls, const char *name), void *cls,
		  const char *body, size_t len, struct ns_reply *r);

/* faults.c */
void faults_init(struct ns_faults *f, uint64_t seed);
int faults_set_json(struct ns_faults *f, const char *json, size_t len, char *err, size_t errlen);
int faults_set_spec(struct ns_faults *f, const char *spec, char *err, size_t errlen);
void faults_render(const struct ns_faults *f, struct jw *w);
int faults_roll(struct ns_faults *f, int kind); /* F_COUNT = no fault */
const char *fclass_name(int f);
const char *kind_name(int k);
#endif
