/* nearsim_bench_client: N keep-alive connections GET /v0/block/{h} for a fixed time and
 * report requests per second. Every answer must be HTTP 200 with the full document. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct worker {
	pthread_t th;
	const char *base;
	uint64_t lo, hi;          /* heights to cycle through */
	double seconds;
	uint64_t requests, bytes, errors;
	size_t got;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *d, size_t sz, size_t nm, void *ud)
{
	struct worker *w = ud;

	(void)d;
	w->got += sz * nm;
	return sz * nm;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	CURL *h = curl_easy_init();
	char url[256];
	double end = now() + w->seconds;
	uint64_t k = 0;

	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	while (now() < end) {
		long code = 0;
		curl_off_t len = 0;
		uint64_t height = w->lo + (k++ % (w->hi - w->lo + 1));
		snprintf(url, sizeof(url), "%s/v0/block/%llu", w->base, (unsigned long long)height);
		curl_easy_setopt(h, CURLOPT_URL, url);
		w->got = 0;
		if (curl_easy_perform(h) != CURLE_OK) {
			w->errors++;
			continue;
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		if (code != 200 || (size_t)len != w->got || w->got < 2) {
			w->errors++;
			continue;
		}
		w->requests++;
		w->bytes += w->got;
	}
	curl_easy_cleanup(h);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *ws;
	int n, i;
	double secs, t0, el;
	uint64_t req = 0, bytes = 0, errors = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: %s BASE_URL FROM_HEIGHT TO_HEIGHT CONNECTIONS SECONDS\n", argv[0]);
		return 2;
	}
	n = atoi(argv[4]);
	secs = atof(argv[5]);
	if (n < 1 || n > 256 || secs <= 0 || strtoull(argv[3], NULL, 10) < strtoull(argv[2], NULL, 10)) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ws = calloc((size_t)n, sizeof(*ws));
	t0 = now();
	for (i = 0; i < n; i++) {
		ws[i].base = argv[1];
		ws[i].lo = strtoull(argv[2], NULL, 10);
		ws[i].hi = strtoull(argv[3], NULL, 10);
		ws[i].seconds = secs;
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(ws[i].th, NULL);
		req += ws[i].requests;
		bytes += ws[i].bytes;
		errors += ws[i].errors;
	}
	el = now() - t0;
	printf("requests=%llu errors=%llu seconds=%.2f rps=%.0f avg_bytes=%.0f MBps=%.1f\n",
	       (unsigned long long)req, (unsigned long long)errors, el, (double)req / el,
	       req ? (double)bytes / (double)req : 0.0, (double)bytes / el / 1e6);
	free(ws);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
