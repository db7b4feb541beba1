/* Listening sockets for the bridge. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Is someone accepting on this socket file? 1 yes, 0 no (stale), -1 error. */
static int socket_alive(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(fd);
	if (rc == 0)
		return 1;
	return e == ECONNREFUSED || e == ENOENT ? 0 : -1;
}

int listen_unix(struct unix_listener *l, const char *path, unsigned mode,
		const char *group, int *removed_stale, char *err, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	gid_t gid = (gid_t)-1;

	l->fd = -1;
	*removed_stale = 0;
	if (!path || !*path || strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, n, "socket path '%s' is empty or longer than %zu bytes",
			 path ? path : "", sizeof(a.sun_path) - 1);
		return -1;
	}
	if (group && *group) {
		char buf[4096];
		struct group g, *gp = NULL;
		if (getgrnam_r(group, &g, buf, sizeof(buf), &gp) != 0 || !gp) {
			char *end;
			unsigned long v = strtoul(group, &end, 10);
			if (*end || end == group) {
				snprintf(err, n, "socket_group '%s': no such group", group);
				return -1;
			}
			gid = (gid_t)v;
		} else {
			gid = gp->gr_gid;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, n, "%s exists and is not a socket; not removing it", path);
			return -1;
		}
		int alive = socket_alive(path);
		if (alive != 0) {
			snprintf(err, n, alive > 0 ? "%s: another process is listening on it"
						   : "%s: cannot tell whether it is in use: %s",
				 path, strerror(errno));
			return -1;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, n, "cannot remove stale socket %s: %s", path, strerror(errno));
			return -1;
		}
		*removed_stale = 1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, n, "socket: %s", strerror(errno));
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* Nobody may connect before the mode is set: create it owner-only. */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	umask(old);
	if (rc < 0) {
		snprintf(err, n, "bind %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    chmod(path, mode & 0777) < 0 || lstat(path, &st) < 0) {
		snprintf(err, n, "setting owner/mode of %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if (listen(fd, 128) < 0) {
		snprintf(err, n, "listen %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	l->fd = fd;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

void listen_unix_close(struct unix_listener *l)
{
	struct stat st;
	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
		unlink(l->path);
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int listen_tcp_loopback(const char *spec, int *port, char *err, size_t n)
{
	char host[128];
	const char *colon = spec ? strrchr(spec, ':') : NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host)) {
		snprintf(err, n, "tcp_listen '%s': expected HOST:PORT", spec ? spec : "");
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	int gai = getaddrinfo(host, colon + 1, &hints, &ai);
	if (gai != 0) {
		snprintf(err, n, "tcp_listen '%s': %s (a numeric loopback address is required)",
			 spec, gai_strerror(gai));
		return -1;
	}
	if (!is_loopback(ai->ai_addr)) {
		snprintf(err, n, "tcp_listen '%s': only loopback addresses are allowed", spec);
		freeaddrinfo(ai);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		snprintf(err, n, "tcp_listen '%s': %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int peer_uid(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return -1;
	*uid = cr.uid;
	return 0;
}
