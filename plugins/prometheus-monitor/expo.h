/* The Prometheus text exposition format, version 0.0.4: HELP and TYPE lines,
 * escaping, number syntax, histogram expansion.  Rendering only: the caller
 * decides which families go out. */
#ifndef PROM_EXPO_H
#define PROM_EXPO_H

#include "mpc-indexer/plugin.h"
#include "pbuf.h"

#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One family of the host registry, all its samples; nothing for a family
 * without samples.  Families of a type
 * this renderer does not know are skipped (returns -1). */
int expo_family(struct pbuf *b, const struct mpci_metric_family *f);

/* "# HELP name text\n# TYPE name type\n"; an empty help gets a placeholder
 * so that linters stay quiet. */
void expo_header(struct pbuf *b, const char *name, const char *type,
		 const char *help);
/* A sample without labels: "name value\n". */
void expo_sample(struct pbuf *b, const char *name, double v);
/* A number in Go ParseFloat syntax (NaN, +Inf, -Inf; integers exactly). */
void expo_number(struct pbuf *b, double v);
/* A label value or help text, escaped; invalid UTF-8 becomes U+FFFD.
 * quotes: also escape '"' (label values). */
void expo_escape(struct pbuf *b, const char *s, int quotes);

#endif
