/* submit_participant_info takes JSON (not Borsh): the Attestation enum in
 * serde's externally tagged form, and the node's TLS key. */
#include <stdlib.h>

#include "args.h"
#include "codec.h"

static char *finish(cJSON *attestation, const char *tls_public_key)
{
	cJSON *root = cJSON_CreateObject();
	char *out = NULL;

	if (root && attestation &&
	    cJSON_AddItemToObject(root, "proposed_participant_attestation", attestation)) {
		attestation = NULL;
		if (cJSON_AddStringToObject(root, "tls_public_key", tls_public_key))
			out = cJSON_PrintUnformatted(root);
	}
	cJSON_Delete(attestation);
	cJSON_Delete(root);
	return out;
}

char *tee_args_dstack(const uint8_t *quote, size_t quote_len, const cJSON *collateral,
		      const cJSON *tcb_info, const char *tls_public_key)
{
	cJSON *att = cJSON_CreateObject(), *ds = cJSON_CreateObject();
	char *hex = tee_hex_dup(quote, quote_len);

	if (!att || !ds || !hex || !cJSON_AddItemToObject(att, "Dstack", ds)) {
		cJSON_Delete(ds);
		ds = NULL;
		goto fail;
	}
	if (!cJSON_AddStringToObject(ds, "quote", hex) ||
	    !cJSON_AddItemReferenceToObject(ds, "collateral", (cJSON *)collateral) ||
	    !cJSON_AddItemReferenceToObject(ds, "tcb_info", (cJSON *)tcb_info))
		goto fail;
	free(hex);
	return finish(att, tls_public_key);
fail:
	free(hex);
	cJSON_Delete(att);
	return NULL;
}

char *tee_args_mock(const char *tls_public_key)
{
	cJSON *att = cJSON_CreateObject();
	if (att && !cJSON_AddStringToObject(att, "Mock", "Valid")) {
		cJSON_Delete(att);
		att = NULL;
	}
	return finish(att, tls_public_key);
}
