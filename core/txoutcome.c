/* The outcome of a transaction from its FinalExecutionOutcomeView. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "near/base64.h"
#include "txoutcome.h"

static const char *const level_names[TXL_COUNT] = {
	"NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL",
};

int tx_level_parse(const char *s)
{
	for (int i = 0; s && i < TXL_COUNT; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

const char *tx_level_name(int lv)
{
	return lv >= 0 && lv < TXL_COUNT ? level_names[lv] : "?";
}

int tx_level_meets(int have, int want)
{
	switch (want) {
	case TXL_NONE:
		return 1;
	case TXL_INCLUDED:
		return have != TXL_NONE;
	case TXL_EXECUTED_OPTIMISTIC:
		return have == TXL_EXECUTED_OPTIMISTIC || have == TXL_EXECUTED || have == TXL_FINAL;
	case TXL_INCLUDED_FINAL:
		return have == TXL_INCLUDED_FINAL || have == TXL_EXECUTED || have == TXL_FINAL;
	case TXL_EXECUTED:
		return have == TXL_EXECUTED || have == TXL_FINAL;
	default:
		return have == TXL_FINAL;
	}
}

void txoutcome_free(struct txoutcome *o)
{
	free(o->value);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

static char *dup_error(const cJSON *fail)
{
	char *s = cJSON_PrintUnformatted(fail);
	return s ? s : strdup("Failure");
}

/* The first Failure among the receipt outcomes (a failed branch that the
 * top-level SuccessValue, which follows only the main chain, does not show). */
static const cJSON *receipt_failure(const cJSON *res, int *unknown)
{
	const cJSON *o, *ro = cJSON_GetObjectItemCaseSensitive(res, "receipts_outcome");
	cJSON_ArrayForEach(o, ro) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(o, "outcome"), "status");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(st, "Failure");
		if (f)
			return f;
		if (cJSON_IsString(st) && strcmp(st->valuestring, "Unknown") == 0)
			*unknown = 1;
	}
	return NULL;
}

int txoutcome_judge(const cJSON *res, int want, struct txoutcome *out)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(res)) {
		out->error = strdup("the result is not an object");
		return -1;
	}
	const cJSON *fes = cJSON_GetObjectItemCaseSensitive(res, "final_execution_status");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
	int lv = cJSON_IsString(fes) ? tx_level_parse(fes->valuestring) : -1;

	out->kind = TXO_PENDING;
	/* Old nodes leave final_execution_status out; their answers are final. */
	if (lv >= 0 && !tx_level_meets(lv, want))
		return 0;
	if (!st)
		return 0; /* NONE / INCLUDED answers carry no outcome */
	const cJSON *fail = cJSON_GetObjectItemCaseSensitive(st, "Failure");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(st, "SuccessValue");
	int unknown = 0;
	if (!fail && cJSON_IsString(val))
		fail = receipt_failure(res, &unknown);
	if (fail) {
		out->kind = cJSON_GetObjectItemCaseSensitive(fail, "InvalidTxError") ?
			    TXO_INVALID : TXO_FAILED;
		out->error = dup_error(fail);
		return 0;
	}
	if (!cJSON_IsString(val)) {
		if (cJSON_IsString(st) && (!strcmp(st->valuestring, "NotStarted") ||
					   !strcmp(st->valuestring, "Started")))
			return 0;
		out->error = strdup("status is neither SuccessValue, Failure, NotStarted nor Started");
		return -1;
	}
	if (unknown && lv < 0)
		return 0; /* a receipt has not run yet */
	size_t n = 0;
	uint8_t *v = b64_decode_alloc(val->valuestring, strlen(val->valuestring), &n);
	if (!v) {
		out->error = strdup("SuccessValue is not base64");
		return -1;
	}
	char *z = realloc(v, n + 1);
	if (!z) {
		free(v);
		out->error = strdup("out of memory");
		return -1;
	}
	z[n] = 0;
	out->value = z;
	out->value_len = n;
	out->kind = TXO_SUCCEEDED;
	return 0;
}
