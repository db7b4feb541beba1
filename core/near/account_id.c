/* Account id syntax: ^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$, 2..64 bytes. */
#include "near/account_id.h"

int near_account_id_valid(const char *s, size_t n)
{
	int prev_sep = 1;	/* treats the start like a separator: none may come first */
	size_t i;

	if (!s || n < NEAR_ACCOUNT_ID_MIN || n > NEAR_ACCOUNT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			prev_sep = 0;
		} else if (c == '-' || c == '_' || c == '.') {
			if (prev_sep)
				return 0;
			prev_sep = 1;
		} else {
			return 0;
		}
	}
	return !prev_sep;
}
