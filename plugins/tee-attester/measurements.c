/* The contract checks the mpc-image-digest event against
 * allowed_docker_image_hashes and SHA-256(app_compose.docker_compose_file)
 * against allowed_launcher_compose_hashes; the same checks, done here first,
 * turn a rejected submission into a warning the operator sees. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "codec.h"
#include "measurements.h"

#define IMR_APP 3

int tee_image_hash(const cJSON *tcb_info, char out[65], char *err, size_t errsz)
{
	const cJSON *e, *found = NULL;
	int n = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(tcb_info, "event_log")) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "event");
		const cJSON *imr = cJSON_GetObjectItemCaseSensitive(e, "imr");
		if (cJSON_IsString(name) && strcmp(name->valuestring, "mpc-image-digest") == 0 &&
		    cJSON_IsNumber(imr) && imr->valuedouble == IMR_APP) {
			found = e;
			n++;
		}
	}
	if (n != 1) {
		snprintf(err, errsz, "tcb_info has %d mpc-image-digest events in RTMR3, want 1", n);
		return -1;
	}
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(found, "event_payload");
	if (!cJSON_IsString(p) || !tee_hex_valid(p->valuestring, 64, 64)) {
		snprintf(err, errsz, "the mpc-image-digest payload is not 32 bytes of hex");
		return -1;
	}
	for (int i = 0; i < 64; i++)
		out[i] = (char)tolower((unsigned char)p->valuestring[i]);
	out[64] = 0;
	return 0;
}

int tee_launcher_hash(const cJSON *tcb_info, char out[65], char *err, size_t errsz)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(tcb_info, "app_compose");
	cJSON *compose = cJSON_IsString(text) ? cJSON_Parse(text->valuestring) : NULL;
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(compose, "docker_compose_file");
	unsigned char md[32];
	unsigned int n = 0;
	int rc = -1;

	if (!cJSON_IsString(file))
		snprintf(err, errsz, "app_compose is not JSON with a docker_compose_file string");
	else if (EVP_Digest(file->valuestring, strlen(file->valuestring), md, &n,
			    EVP_sha256(), NULL) != 1 || n != 32)
		snprintf(err, errsz, "SHA-256 failed");
	else {
		tee_hex_encode(md, 32, out);
		rc = 0;
	}
	cJSON_Delete(compose);
	return rc;
}

int tee_allowed_contains(const char *value, size_t len, const char *hash, time_t now)
{
	cJSON *doc = cJSON_ParseWithLength(value, len);
	const cJSON *e;
	int rc = cJSON_IsArray(doc) ? 0 : -1;
	const cJSON *list = rc == 0 ? doc : NULL;

	cJSON_ArrayForEach(e, list) {
		const cJSON *h = e, *exp = NULL;
		if (cJSON_IsObject(e)) {
			h = cJSON_GetObjectItemCaseSensitive(e, "image_hash");
			exp = cJSON_GetObjectItemCaseSensitive(e, "expiry_timestamp_seconds");
		}
		if (!cJSON_IsString(h)) {
			rc = -1;
			break;
		}
		if (strcasecmp(h->valuestring, hash) == 0 &&
		    !(cJSON_IsNumber(exp) && exp->valuedouble < (double)now)) {
			rc = 1;
			break;
		}
	}
	cJSON_Delete(doc);
	return rc;
}
