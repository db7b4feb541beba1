/* server: start the HTTP server (libmicrohttpd) over the chain. */
#ifndef NEARSIM_SERVER_H
#define NEARSIM_SERVER_H
struct MHD_Daemon;
struct ns_chain;
struct MHD_Daemon *server_start(struct ns_chain *c, const char *listen, int port, int *bound);
#endif
