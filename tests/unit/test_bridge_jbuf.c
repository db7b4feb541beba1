/* The bridge's JSON writers on bytes it did not make: every line it sends
 * must be UTF-8 JSON a strict reader (Python's json, serde) accepts.  Found by
 * tests/fuzz/fuzz_bridge_proto.c. */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "jbuf.h"

static char *qstr(const char *s)
{
	struct jbuf j;
	jb_init(&j);
	jb_qstr(&j, s);
	return jb_take(&j, NULL);
}

static char *kv(const char *s)
{
	struct jbuf j;
	jb_init(&j);
	jb_put(&j, "{", 1);
	jb_kv_json(&j, "value", s, strlen(s), 1);
	jb_put(&j, "}", 1);
	return jb_take(&j, NULL);
}

int main(void)
{
	char *s;

	/* an id or method name a client sent, echoed in a reply */
	s = qstr("no\xa4\xffpe");
	is_str(s, "\"no\xef\xbf\xbd\xef\xbf\xbdpe\"", "invalid UTF-8 becomes U+FFFD");
	free(s);
	s = qstr("caf\xc3\xa9 \xf0\x9f\x94\x91");
	is_str(s, "\"caf\xc3\xa9 \xf0\x9f\x94\x91\"", "valid UTF-8 is kept as it is");
	free(s);
	s = qstr("\xe2\x82");
	is_str(s, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "a sequence cut at the end (as by %%.64s) is replaced");
	free(s);
	s = qstr("\xed\xa0\x80|\xc0\xaf");
	is_str(s, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"",
	       "surrogates and overlong forms are replaced byte by byte");
	free(s);
	s = qstr("a\"b\\c\n\x01");
	is_str(s, "\"a\\\"b\\\\c\\n\\u0001\"", "quotes, backslashes and controls are escaped");
	free(s);

	/* a view value or receipt args from the chain, relayed when it is JSON */
	const char *good = "{\"a\":[1,-0.5e+3,\"x\\u0001\"]}";
	ok(jb_is_json(good, strlen(good)), "strict JSON is JSON");
	ok(!jb_is_json("[\"a\x01" "b\"]", 7), "a raw control character in a string is not");
	ok(!jb_is_json("[\"a\tb\"]", 7), "nor a raw tab in a string");
	ok(!jb_is_json("[01]", 4), "nor a leading zero");
	ok(!jb_is_json("[1.]", 4), "nor a bare decimal point");
	ok(!jb_is_json("[-.5]", 5), "nor a number without an integer part");
	ok(!jb_is_json("[1,\x0b" "2]", 6), "nor a vertical tab as whitespace");
	ok(!jb_is_json("\xef\xbb\xbf{}", 5), "nor a leading BOM");
	ok(jb_is_json(" [1, 2]\r\n", 9), "whitespace around a value is fine");

	s = kv("[\"a\x01" "b\"]");
	is_str(s, "{\"value_base64\":\"WyJhAWIiXQ==\"}", "a lenient-only value goes out as base64");
	free(s);
	s = kv("{\"k\":\n 1}");
	is_str(s, "{\"value\":{\"k\":  1}}", "a strict value goes out as is, on one line");
	free(s);
	return done_testing();
}
