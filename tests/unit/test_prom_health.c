/* prometheus-monitor: every /healthz verdict and its reason. */
#include <string.h>

#include "../tap.h"
#include "health.h"

static const struct health_cfg cfg = { .max_lag = 30, .max_lag_blocks = 60, .stall_timeout = 10 };

static void verdict(struct health_in in, int want, const char *needle, const char *what)
{
	char reason[300];
	int got = health_check(&cfg, &in, reason, sizeof(reason));
	ok(got == want && strstr(reason, needle), "%s: %s", what, reason);
}

int main(void)
{
	struct health_in good = { .have_stream = 1, .now = 100, .started = 0, .blocks = 50,
				  .last_block_at = 99, .processed = 1000, .head = 1002,
				  .lag_seconds = 1.2, .status_following = 1 };
	struct health_in in;

	verdict(good, 1, "ok: following at height 1000, 2 blocks", "following");
	in = good; in.have_stream = 0;
	verdict(in, 0, "no block stream", "a host without a block stream");
	in = good; in.blocks = 0;
	verdict(in, 0, "no block received in 100 s", "nothing received yet");
	in = good; in.last_block_at = 85;
	verdict(in, 0, "stalled: no new block for 15.0 s (limit 10 s), last height 1000", "stalled");
	in = good; in.lag_seconds = 45;
	verdict(in, 0, "behind: 45.0 s behind", "too many seconds behind");
	in = good; in.head = 1100;
	verdict(in, 0, "behind: 100 blocks behind the chain head 1100", "too many blocks behind");
	in = good; in.status_following = 0;
	verdict(in, 0, "reports it is not following", "the indexer says it is not following");
	in = good; in.status_following = -1; in.head = 0; in.lag_seconds = 0;
	verdict(in, 1, "ok", "no status from the host: judged by blocks alone");
	in = good; in.last_block_at = 85; in.lag_seconds = 100;
	verdict(in, 0, "stalled", "a stall is reported before the lag");
	struct health_cfg off = { 0 };
	char reason[300];
	in = good; in.last_block_at = 0; in.lag_seconds = 1e6; in.head = 1e9;
	ok(health_check(&off, &in, reason, sizeof(reason)) == 1, "every limit 0: only the stream matters");
	return done_testing();
}
