/* The bridge's listening sockets: a Unix socket (mode, group, stale file
 * handling) and an optional TCP socket on loopback; peer credentials. */
#ifndef BRIDGE_LISTEN_H
#define BRIDGE_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

struct unix_listener {
	int fd;
	char path[108];
	dev_t dev;                  /* the file we bound, so we only remove our own */
	ino_t ino;
};

/* Bind and listen on `path` with permissions `mode`, group `group` (NULL =
 * keep).  A socket file nobody answers on is removed first; a live one or a
 * file that is not a socket is an error.  Returns 0, or -1 and `err`. */
int listen_unix(struct unix_listener *l, const char *path, unsigned mode,
		const char *group, int *removed_stale, char *err, size_t n);
/* Close and remove the socket file if it is still the one we made. */
void listen_unix_close(struct unix_listener *l);

/* "HOST:PORT" on a loopback address (127.0.0.0/8 or [::1]); port 0 picks one.
 * Returns the fd and the bound port, or -1 and `err`. */
int listen_tcp_loopback(const char *spec, int *port, char *err, size_t n);

/* The peer's uid on a Unix socket; -1 when unknown. */
int peer_uid(int fd, uid_t *uid);

#endif
