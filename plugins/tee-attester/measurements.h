/* This node's image and launcher-compose measurements, and whether the
 * contract's allowed lists contain them (the pre-check before submitting). */
#ifndef TEE_MEASUREMENTS_H
#define TEE_MEASUREMENTS_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

/* The payload of the one RTMR3 `mpc-image-digest` event (64 lower-case hex
 * characters).  0, or -1 with a message. */
int tee_image_hash(const cJSON *tcb_info, char out[65], char *err, size_t errsz);

/* SHA-256 of app_compose's docker_compose_file, as hex.  0, or -1. */
int tee_launcher_hash(const cJSON *tcb_info, char out[65], char *err, size_t errsz);

/* Does an allowed-hashes view value (a JSON array of hex strings, or of
 * {"image_hash", "expiry_timestamp_seconds"} objects) hold `hash` (entries
 * whose expiry is before `now` do not count)?  1, 0, or -1 when the value
 * does not parse. */
int tee_allowed_contains(const char *value, size_t len, const char *hash, time_t now);

#endif
