/* The exact text of a member's value inside a JSON object, for fields the
 * contract wants byte for byte (the PCCS tcbInfo and enclaveIdentity). */
#ifndef TEE_JSON_SPAN_H
#define TEE_JSON_SPAN_H

#include <stddef.h>

/* `json` must already be known to be valid JSON (e.g. cJSON parsed it).
 * Finds the top-level member `key` (unescaped name) of the object and sets
 * *start / *len to its value's text.  0, or -1 when absent. */
int tee_json_span(const char *json, size_t n, const char *key, size_t *start,
		  size_t *len);

#endif
