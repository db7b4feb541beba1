// The baseline for `make bench`: what a user would otherwise write in Node.js (stdlib only)
// to follow neardata and find the MPC requests and completions: fetch every /v0/block/{h}
// with a pool of concurrent requests, process them in height order, JSON.parse each
// document and look for the same receipts as the indexer.
// usage: node blocks_baseline.js BASE_URL FROM TO CONTRACT [CONCURRENCY]
'use strict';
const [base, from, to, contract, conc] = process.argv.slice(2);
const lo = Number(from), hi = Number(to), pool = Number(conc || 32);
const REQ = ['sign', 'request_app_private_key', 'verify_foreign_transaction'];
const DONE = ['return_signature_and_clean_state_on_success', 'return_ck_and_clean_state_on_success',
	'return_verify_foreign_tx_and_clean_state_on_success'];
let requests = 0, completions = 0, blocks = 0, bytes = 0;

async function fetchBlock(h) {
	for (;;) {
		try {
			const r = await fetch(`${base}/v0/block/${h}`);
			const text = await r.text();
			if (r.status === 200) return text;
		} catch (e) { /* retry */ }
		await new Promise((res) => setTimeout(res, 100));
	}
}

function handle(text) {
	bytes += text.length;
	const doc = JSON.parse(text);
	if (doc === null) return;
	blocks++;
	for (const shard of doc.shards) {
		for (const o of shard.receipt_execution_outcomes) {
			const acts = o.receipt.receipt.Action && o.receipt.receipt.Action.actions;
			if (!acts || acts.length !== 1 || !acts[0].FunctionCall) continue;
			const fc = acts[0].FunctionCall, out = o.execution_outcome.outcome;
			if (out.executor_id === contract && out.status.SuccessReceiptId && REQ.includes(fc.method_name)) {
				JSON.parse(Buffer.from(fc.args, 'base64').toString()).request;
				requests++;
			}
			if (o.receipt.receiver_id === contract && DONE.includes(fc.method_name)) completions++;
		}
	}
}

(async () => {
	const t0 = process.hrtime.bigint();
	const inflight = new Map();
	let next = lo, done = lo;
	while (done <= hi) {
		while (next <= hi && inflight.size < pool) {
			inflight.set(next, fetchBlock(next));
			next++;
		}
		const text = await inflight.get(done);
		inflight.delete(done);
		handle(text);
		done++;
	}
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	console.log(JSON.stringify({ blocks, heights: hi - lo + 1, requests, completions, bytes, seconds: secs,
		rss_peak_kb: Math.round(process.resourceUsage().maxRSS) }));
})();
