/* Run a command under the seccomp restrictions that contrib/systemd/mpc-indexer.service
 * asks systemd for, built the way systemd 252 (Debian 12) builds them, so that the
 * tests can show the daemon and its dlopen()ed plugins work inside the unit:
 *   NoNewPrivileges=yes            prctl(PR_SET_NO_NEW_PRIVS)
 *   MemoryDenyWriteExecute=yes     mmap(PROT_WRITE|PROT_EXEC), mprotect/pkey_mprotect(PROT_EXEC)
 *                                  and shmat(SHM_EXEC) fail with EPERM
 *   RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
 *                                  socket() of any other family fails with EAFNOSUPPORT
 * usage: ops_sandbox --selftest | ops_sandbox COMMAND [ARGS...]
 * --selftest installs the filter and checks that each rule really refuses. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define OPS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OPS_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(__u64))
#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define RET_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

#ifdef OPS_ARCH
static int install(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OPS_ARCH, 1, 0),
		RET_ERRNO(ENOSYS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 9, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 8, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_shmat, 11, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 14, 0),
		RET_ALLOW,
		/* mmap: prot is argument 2; refuse W and X together */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 0, 1),
		RET_ERRNO(EPERM),
		RET_ALLOW,
		/* mprotect, pkey_mprotect: refuse any PROT_EXEC */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		RET_ERRNO(EPERM),
		RET_ALLOW,
		/* shmat: refuse SHM_EXEC in shmflg (argument 2) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SHM_EXEC, 0, 1),
		RET_ERRNO(EPERM),
		RET_ALLOW,
		/* socket: the domain (argument 0) must be one of the three */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0),
		RET_ERRNO(EAFNOSUPPORT),
		RET_ALLOW,
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("ops_sandbox: PR_SET_NO_NEW_PRIVS");
		return -1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("ops_sandbox: PR_SET_SECCOMP");
		return -1;
	}
	return 0;
}

static int expect(const char *what, int refused, int err, int want)
{
	if (refused && err == want) {
		printf("refused: %s\n", what);
		return 0;
	}
	printf("NOT refused as expected: %s (errno %d, want %d)\n", what, err, want);
	return 1;
}

static int selftest(void)
{
	int bad = 0;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bad |= expect("mmap(PROT_WRITE|PROT_EXEC)", p == MAP_FAILED, errno, EPERM);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("ops_sandbox: plain mmap");
		return 1;
	}
	bad |= expect("mprotect(PROT_EXEC)", mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0,
		      errno, EPERM);
	int fd = socket(AF_NETLINK, SOCK_RAW, 0);
	bad |= expect("socket(AF_NETLINK)", fd < 0, errno, EAFNOSUPPORT);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0 && errno == EAFNOSUPPORT) {
		printf("socket(AF_INET6) refused, but it must be allowed\n");
		bad = 1;
	}
	if (fd >= 0)
		close(fd);
	bad |= prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1;
	return bad;
}
#endif

int main(int argc, char **argv)
{
#ifndef OPS_ARCH
	fprintf(stderr, "ops_sandbox: no seccomp filter for this architecture\n");
	return 77;
#else
	if (argc < 2) {
		fprintf(stderr, "usage: ops_sandbox --selftest | ops_sandbox COMMAND [ARGS...]\n");
		return 2;
	}
	if (install() < 0)
		return 77;
	if (strcmp(argv[1], "--selftest") == 0)
		return selftest();
	execvp(argv[1], argv + 1);
	fprintf(stderr, "ops_sandbox: %s: %s\n", argv[1], strerror(errno));
	return 127;
#endif
}
