/* libFuzzer target: everything tee-attester reads from the dstack agent, the
 * PCCS and the contract.  The first byte picks the reader; the rest is its
 * input (for the PCCS, four answers separated by 0xff 0x00).  Any input
 * gives a value or an error with a message; never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collateral.h"
#include "dstack.h"
#include "json_span.h"
#include "measurements.h"
#include "stored.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pccs(const char *buf, size_t size)
{
	static const struct tee_pck pck = { "B0C06F000000", "platform" };
	struct tee_pccs_answer a[TEE_PCCS_ITEMS];
	struct tee_collateral_dates d;
	enum tee_cause cause;
	char err[512];
	const char *p = buf, *end = buf + size;

	for (int i = 0; i < TEE_PCCS_ITEMS; i++) {
		const char *sep = p;
		while (sep + 1 < end && !((uint8_t)sep[0] == 0xff && sep[1] == 0))
			sep++;
		if (sep + 1 >= end)
			sep = end;
		a[i] = (struct tee_pccs_answer){ 200, NULL, p, (size_t)(sep - p),
						 i == 1 ? "-----BEGIN%20CERTIFICATE-----" : "%41%4" };
		p = sep < end ? sep + 2 : end;
	}
	cJSON *c = tee_collateral_build(a, &pck, "-----BEGIN CERTIFICATE-----", 27, 1786622400,
					31.0 * 86400, &d, &cause, err, sizeof(err));
	if (!c && (!err[0] || cause == TEE_OK))
		abort();
	cJSON_Delete(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], text[256], hash[65];
	uint8_t key[32] = { 0 }, *quote;
	size_t qlen, start, len;
	struct tee_stored st;
	char *buf;

	if (size < 1)
		return 0;
	/* an exact-size copy, so ASan sees any read past the end */
	if (!(buf = malloc(size - 1 ? size - 1 : 1)))
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	switch (data[0] % 6) {
	case 0: {
		cJSON *t = tee_dstack_info_parse(buf, size, err, sizeof(err));
		if (t) {
			tee_image_hash(t, hash, err, sizeof(err));
			tee_launcher_hash(t, hash, err, sizeof(err));
		}
		cJSON_Delete(t);
		break;
	}
	case 1:
		if (tee_dstack_quote_parse(buf, size, &quote, &qlen, err, sizeof(err)) == 0)
			free(quote);
		tee_dstack_error_text(buf, size, text, sizeof(text));
		break;
	case 2:
		pccs(buf, size);
		break;
	case 3:
		tee_stored_parse(buf, size, &st);
		tee_accounts_lists(buf, size, "a.near", key, key);
		tee_allowed_contains(buf, size, "00", 0);
		break;
	case 4: {
		/* the span scanner wants valid JSON, as cJSON checks first */
		cJSON *j = cJSON_ParseWithLength(buf, size);
		if (j && tee_json_span(buf, size, "tcbInfo", &start, &len) == 0 &&
		    (start > size || len > size - start))
			abort();
		cJSON_Delete(j);
		break;
	}
	default:
		break;
	}
	free(buf);
	return 0;
}
