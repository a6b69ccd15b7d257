/* Which sockets raise SIGPIPE when a send or write fails with EPIPE:
 * stream sockets do (unless MSG_NOSIGNAL); SEQPACKET, datagram and UDP
 * sockets do not (Linux: unix_dgram_sendmsg and sock_alloc_send_pskb
 * only return EPIPE). write(2) behaves as send without flags. A UDP
 * send after its own SHUT_WR is EPIPE, whether or not anyone listens. */
#include "util.h"
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>

static volatile sig_atomic_t got;
static void on_pipe(int sig) { (void)sig; got++; }

static void show(const char *what, ssize_t r)
{
	printf("%s: %s, SIGPIPE %d\n", what, r < 0 ? errname(errno) : "sent", (int)got);
	got = 0;
}

static void probe(const char *name, int type, bool shut)
{
	int sv[2];
	socketpair(AF_UNIX, type, 0, sv);
	if (shut)
		shutdown(sv[0], SHUT_WR);
	else
		close(sv[1]);
	char label[80];
	snprintf(label, sizeof(label), "%s, %s, send", name, shut ? "own SHUT_WR" : "peer closed");
	show(label, send(sv[0], "x", 1, 0));
	snprintf(label, sizeof(label), "%s, %s, send MSG_NOSIGNAL", name, shut ? "own SHUT_WR" : "peer closed");
	show(label, send(sv[0], "x", 1, MSG_NOSIGNAL));
	snprintf(label, sizeof(label), "%s, %s, write", name, shut ? "own SHUT_WR" : "peer closed");
	show(label, write(sv[0], "x", 1));
	close(sv[0]);
	if (shut)
		close(sv[1]);
}

int main(void)
{
	signal(SIGPIPE, on_pipe);
	static const struct { const char *name; int type; } kinds[] = {
		{ "stream", SOCK_STREAM }, { "seqpacket", SOCK_SEQPACKET }, { "dgram", SOCK_DGRAM } };
	for (int k = 0; k < 3; k++) {
		probe(kinds[k].name, kinds[k].type, false);
		probe(kinds[k].name, kinds[k].type, true);
	}
	/* UDP to a port nobody has, after SHUT_WR. */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(u, (struct sockaddr *)&a, sizeof(a));
	shutdown(u, SHUT_WR);
	show("udp, own SHUT_WR, send", send(u, "x", 1, 0));
	show("udp, own SHUT_WR, write", write(u, "x", 1));
	close(u);
	/* A connected UDP socket's port unreachable comes back on the next send. */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	connect(u, (struct sockaddr *)&a, sizeof(a));
	show("udp to a closed port, first send", send(u, "x", 1, 0));
	usleep(20000);
	show("udp to a closed port, second send", send(u, "x", 1, 0));
	show("udp to a closed port, third send", send(u, "x", 1, 0));
	close(u);
	return 0;
}
