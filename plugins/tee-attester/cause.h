/* Why an attestation attempt failed: the label of the failures metric. */
#ifndef TEE_CAUSE_H
#define TEE_CAUSE_H

enum tee_cause {
	TEE_OK = 0,
	TEE_CONFIG,               /* keys or signer unusable */
	TEE_DSTACK_UNREACHABLE,   /* no answer from the agent's socket */
	TEE_DSTACK_HTTP,          /* the agent answered an HTTP error */
	TEE_DSTACK_MALFORMED,     /* the agent's answer does not parse or check */
	TEE_QUOTE_MALFORMED,      /* the quote's bytes do not parse */
	TEE_REPORT_DATA_MISMATCH, /* the quote does not bind our keys */
	TEE_PCCS_UNREACHABLE,
	TEE_PCCS_HTTP,            /* e.g. 404 for an unknown FMSPC */
	TEE_PCCS_MALFORMED,
	TEE_PCCS_ISSUER_CHAIN,    /* an issuer-chain response header is missing */
	TEE_COLLATERAL_STALE,     /* issued too long ago, or in the future */
	TEE_VIEW,                 /* get_attestation could not be read */
	TEE_TX_REJECTED,
	TEE_TX_FAILED,
	TEE_TX_UNKNOWN,
	TEE_NOT_CONFIRMED,        /* the stored attestation did not change */
	TEE_OUTPUT,               /* dry-run: the arguments could not be written */
	TEE_CAUSE_COUNT
};

/* The metric label, e.g. "report_data_mismatch". */
const char *tee_cause_name(enum tee_cause c);

#endif
