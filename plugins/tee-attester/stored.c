/* Reading the contract's stored attestations.  Keys are compared as raw
 * bytes, so any spelling of the same key matches. */
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "stored.h"

int tee_stored_parse(const char *value, size_t len, struct tee_stored *out)
{
	cJSON *doc = cJSON_ParseWithLength(value, len);
	int rc = -1;

	out->present = 0;
	out->expiry = -1;
	if (cJSON_IsNull(doc)) {
		rc = 0;
	} else if (cJSON_IsObject(doc) && cJSON_GetArraySize(doc) == 1) {
		const cJSON *variant = doc->child;
		const cJSON *exp = cJSON_IsObject(variant)
			? cJSON_GetObjectItemCaseSensitive(variant, "expiry_timestamp_seconds")
			: NULL;
		out->present = 1;
		if (cJSON_IsNumber(exp) && exp->valuedouble >= 0)
			out->expiry = exp->valuedouble;
		rc = 0;
	}
	cJSON_Delete(doc);
	return rc;
}

static int key_is(const cJSON *o, const char *k, const uint8_t want[32])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	uint8_t raw[32];
	return cJSON_IsString(v) && tee_ed25519_parse(v->valuestring, raw) == 0 &&
	       memcmp(raw, want, 32) == 0;
}

int tee_accounts_lists(const char *value, size_t len, const char *account_id,
		       const uint8_t tls_pk[32], const uint8_t account_pk[32])
{
	cJSON *doc = cJSON_ParseWithLength(value, len);
	const cJSON *e;
	int rc = cJSON_IsArray(doc) ? 0 : -1;
	const cJSON *list = rc == 0 ? doc : NULL;

	cJSON_ArrayForEach(e, list) {
		const cJSON *acct = cJSON_GetObjectItemCaseSensitive(e, "account_id");
		if (!cJSON_IsString(acct)) {
			rc = -1;
			break;
		}
		if (key_is(e, "tls_public_key", tls_pk) &&
		    key_is(e, "account_public_key", account_pk) &&
		    (!account_id || strcmp(acct->valuestring, account_id) == 0)) {
			rc = 1;
			break;
		}
	}
	cJSON_Delete(doc);
	return rc;
}
