/* The dstack guest agent's HTTP API (over its Unix socket): Info and
 * GetQuote bodies in, validated values out. */
#ifndef TEE_DSTACK_H
#define TEE_DSTACK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TEE_DSTACK_INFO_MAX (4u << 20)   /* Info answer, bytes */
#define TEE_DSTACK_QUOTE_MAX (1u << 20)  /* GetQuote answer, bytes */

/* `{"report_data":"<128 hex>"}`, malloc'd; NULL when out of memory. */
char *tee_dstack_quote_request(const uint8_t report_data[64]);

/* The Info answer's tcb_info (a JSON string inside the JSON answer), as the
 * contract's TcbInfo: exactly mrtd, rtmr0-3, os_image_hash, compose_hash,
 * device_id, app_compose and event_log entries of imr, event_type, digest,
 * event, event_payload; every value checked.  NULL with a message. */
cJSON *tee_dstack_info_parse(const char *body, size_t len, char *err,
			     size_t errsz);

/* The GetQuote answer's quote bytes (malloc'd) and their length.  0, or -1
 * with a message. */
int tee_dstack_quote_parse(const char *body, size_t len, uint8_t **quote,
			   size_t *quote_len, char *err, size_t errsz);

/* The agent's own error text from a 4xx/5xx body `{"error":"..."}`, copied
 * into buf (at most 200 characters), or "" when there is none. */
void tee_dstack_error_text(const char *body, size_t len, char *buf, size_t n);

#endif
