/* Metric labels of the failure causes. */
#include "cause.h"

const char *tee_cause_name(enum tee_cause c)
{
	static const char *const names[TEE_CAUSE_COUNT] = {
		[TEE_OK] = "ok",
		[TEE_CONFIG] = "config",
		[TEE_DSTACK_UNREACHABLE] = "dstack_unreachable",
		[TEE_DSTACK_HTTP] = "dstack_http",
		[TEE_DSTACK_MALFORMED] = "dstack_malformed",
		[TEE_QUOTE_MALFORMED] = "quote_malformed",
		[TEE_REPORT_DATA_MISMATCH] = "report_data_mismatch",
		[TEE_PCCS_UNREACHABLE] = "pccs_unreachable",
		[TEE_PCCS_HTTP] = "pccs_http",
		[TEE_PCCS_MALFORMED] = "pccs_malformed",
		[TEE_PCCS_ISSUER_CHAIN] = "pccs_issuer_chain",
		[TEE_COLLATERAL_STALE] = "collateral_stale",
		[TEE_VIEW] = "view",
		[TEE_TX_REJECTED] = "tx_rejected",
		[TEE_TX_FAILED] = "tx_failed",
		[TEE_TX_UNKNOWN] = "tx_unknown",
		[TEE_NOT_CONFIRMED] = "not_confirmed",
		[TEE_OUTPUT] = "output",
	};
	return c >= 0 && c < TEE_CAUSE_COUNT ? names[c] : "other";
}
