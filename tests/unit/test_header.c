/* The public header stands alone and its frozen prefixes never move. */
#include "mpc-indexer/plugin.h"
#include "../tap.h"

_Static_assert(offsetof(struct mpci_plugin_desc, struct_size) == 0, "desc size first");
_Static_assert(offsetof(struct mpci_plugin_desc, abi_major) == 4, "desc major");
_Static_assert(offsetof(struct mpci_plugin_desc, abi_minor) == 6, "desc minor");
_Static_assert(offsetof(struct mpci_plugin_desc, fingerprint) == 8, "desc fingerprint");
_Static_assert(offsetof(struct mpci_host_api, struct_size) == 0, "api size first");
_Static_assert(offsetof(struct mpci_host_api, log) == 8, "api log first");

_Static_assert(offsetof(struct mpci_http_response, headers) >
	       offsetof(struct mpci_http_response, elapsed), "1.1 fields come after 1.0's");

static void test_response_header(void)
{
	static const struct mpci_http_header hs[] = {
		{ "Content-Length", "2" }, { "TCB-Info-Issuer-Chain", "a" },
		{ "tcb-info-issuer-chain", "b" }, { "X-", "short" } };
	struct mpci_http_response r = { .struct_size = sizeof(r), .status = 200,
					 .headers = hs, .n_headers = 4 };

	ok(MPCI_HTTP_RESPONSE_HAS(&r, n_headers), "a 1.1 response has headers");
	is_str(mpci_http_response_header(&r, "tcb-INFO-issuer-chain"), "a",
	       "a lookup ignores case and finds the first of a repeated name");
	ok(mpci_http_response_header(&r, "TCB-Info-Issuer-Chain-X") == NULL &&
	   mpci_http_response_header(&r, "TCB-Info") == NULL &&
	   mpci_http_response_header(&r, "X-Y") == NULL, "no prefix or extension matches");
	r.struct_size = offsetof(struct mpci_http_response, headers);
	ok(!MPCI_HTTP_RESPONSE_HAS(&r, n_headers) &&
	   mpci_http_response_header(&r, "Content-Length") == NULL,
	   "a 1.0 host's response: the fields past its size are never read");
	r.struct_size = sizeof(r);
	r.n_headers = 0;
	ok(mpci_http_response_header(&r, "Content-Length") == NULL, "no headers, no value");
}

int main(void)
{
	struct mpci_host_api api = { .struct_size = offsetof(struct mpci_host_api, now) };
	api.log = NULL;
	ok(!MPCI_API_HAS(&api, now), "an older table does not claim newer functions");
	api.struct_size = sizeof(api);
	ok(!MPCI_API_HAS(&api, now), "a NULL entry is not offered");
	is_int(MPCI_ABI_MAJOR, 1, "ABI major is 1");
	ok(MPCI_FINGERPRINT != 0, "the fingerprint is non-zero");
	test_response_header();
	return done_testing();
}
