/* A multithreaded TCP echo server over 127.0.0.1 and ::1: worker
 * threads each with an epoll set share the listeners (EPOLLEXCLUSIVE),
 * connections are EPOLLONESHOT and re-armed after each burst; client
 * threads connect without blocking, send large buffers with writev and
 * sendmsg, half-close and check what comes back. Then an AF_UNIX
 * SEQPACKET request/response pool. Only totals and checksums print. */
#include "util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <stdbool.h>
#include <stddef.h>

#define WORKERS 3
#define CLIENTS 6
#define PAYLOAD (300 * 1024 + 17)

static int listeners[2];
static int stop_efd[2];
static _Atomic long served_bytes, accepted;

static void *worker(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listeners[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i], &ev);
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = stop_efd[0] };
	epoll_ctl(ep, EPOLL_CTL_ADD, stop_efd[0], &ev);
	char buf[16384];
	for (;;) {
		struct epoll_event out[8];
		int n = epoll_wait(ep, out, 8, 10000);
		if (n <= 0) {
			printf("worker epoll_wait %d\n", n);
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = out[i].data.fd;
			if (fd == stop_efd[0]) {
				close(ep);
				return NULL;
			}
			if (fd == listeners[0] || fd == listeners[1]) {
				int c;
				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					accepted++;
					struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			/* Echo what is there; block for the write side with poll. */
			bool closed = false;
			for (;;) {
				ssize_t r = recv(fd, buf, sizeof(buf), 0);
				if (r == 0) {
					closed = true;
					break;
				}
				if (r < 0) {
					if (errno != EAGAIN)
						closed = true;
					break;
				}
				for (ssize_t off = 0; off < r;) {
					ssize_t w = send(fd, buf + off, r - off, MSG_NOSIGNAL);
					if (w < 0 && errno == EAGAIN) {
						struct pollfd pf = { fd, POLLOUT, 0 };
						poll(&pf, 1, 5000);
						continue;
					}
					if (w < 0) {
						closed = true;
						break;
					}
					off += w;
					served_bytes += w;
				}
			}
			if (closed) {
				shutdown(fd, SHUT_WR);
				close(fd); /* leaves the epoll set too */
			} else {
				struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.fd = fd };
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
			}
		}
	}
	close(ep);
	return NULL;
}

static int ports[2];

struct client_result {
	long sent, received;
	unsigned sum_out, sum_in;
	int connect_result, so_error, peer_ok;
};

static unsigned sum(const unsigned char *p, size_t n, unsigned s)
{
	for (size_t i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

static void *client(void *arg)
{
	long id = (long)arg;
	struct client_result *res = calloc(1, sizeof(*res));
	int v6 = id & 1;
	int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(ports[1]);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(ports[0]);
		len = sizeof(*a);
	}
	int r = connect(c, (void *)&ss, len);
	res->connect_result = r < 0 ? errno : 0;
	struct pollfd pf = { c, POLLOUT, 0 };
	poll(&pf, 1, 5000);
	socklen_t el = sizeof(int);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &res->so_error, &el);
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);
	getpeername(c, (void *)&peer, &pl);
	res->peer_ok = pl == len && !memcmp(&peer, &ss, len);
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	unsigned char *out = malloc(PAYLOAD), *in = malloc(PAYLOAD + 100);
	for (long i = 0; i < PAYLOAD; i++)
		out[i] = (unsigned char)(i * 7 + id);
	res->sum_out = sum(out, PAYLOAD, 0);
	long sent = 0, got = 0;
	while (got < PAYLOAD) {
		if (sent < PAYLOAD) {
			/* Alternate writev (three pieces) and sendmsg (two). */
			long left = PAYLOAD - sent, a = left / 3, b = left / 3;
			struct iovec iov[3] = { { out + sent, a }, { out + sent + a, b }, { out + sent + a + b, left - a - b } };
			ssize_t w;
			if ((sent / 4096) & 1) {
				struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
				iov[1].iov_len = left - a;
				w = sendmsg(c, &m, MSG_NOSIGNAL);
			} else {
				w = writev(c, iov, 3);
			}
			if (w > 0)
				sent += w;
			else if (errno != EAGAIN)
				break;
			if (sent == PAYLOAD)
				shutdown(c, SHUT_WR);
		}
		struct iovec riov[2] = { { in + got, 1000 }, { in + got + 1000, PAYLOAD + 100 - got - 1000 } };
		if (PAYLOAD + 100 - got <= 1000)
			riov[0].iov_len = PAYLOAD + 100 - got, riov[1].iov_len = 0;
		ssize_t rr = readv(c, riov, 2);
		if (rr == 0)
			break;
		if (rr > 0) {
			got += rr;
			continue;
		}
		if (errno != EAGAIN)
			break;
		pf.events = sent < PAYLOAD ? POLLIN | POLLOUT : POLLIN;
		poll(&pf, 1, 5000);
	}
	/* After our FIN the echo ends with the server's. */
	pf.events = POLLIN;
	poll(&pf, 1, 5000);
	char tail[8];
	ssize_t last = recv(c, tail, sizeof(tail), MSG_DONTWAIT);
	res->sent = sent;
	res->received = got + (last > 0 ? last : 0);
	res->sum_in = sum(in, got, 0);
	close(c);
	free(out);
	free(in);
	return res;
}

static void tcp_echo(void)
{
	printf("-- tcp echo\n");
	listeners[0] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	listeners[1] = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	int one = 1;
	setsockopt(listeners[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(listeners[1], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	bind(listeners[0], (void *)&a4, sizeof(a4));
	bind(listeners[1], (void *)&a6, sizeof(a6));
	listen(listeners[0], 64);
	listen(listeners[1], 64);
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in6 ss;
		socklen_t l = sizeof(ss);
		getsockname(listeners[i], (void *)&ss, &l);
		ports[i] = ntohs(ss.sin6_port);
	}
	pipe(stop_efd);
	pthread_t w[WORKERS], c[CLIENTS];
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&w[i], NULL, worker, NULL);
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&c[i], NULL, client, (void *)i);
	for (int i = 0; i < CLIENTS; i++) {
		struct client_result *r;
		pthread_join(c[i], (void **)&r);
		printf("client %d: connect %s so_error %d peer %d sent %ld received %ld match %d\n", i,
		       errname(r->connect_result), r->so_error, r->peer_ok, r->sent, r->received,
		       r->sum_in == r->sum_out);
		free(r);
	}
	write(stop_efd[1], "x", 1);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
	printf("accepted %ld served %ld\n", (long)accepted, (long)served_bytes);
	/* Rebinding the port with SO_REUSEADDR once the listener is gone. */
	close(listeners[0]);
	close(listeners[1]);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a4.sin_port = htons(ports[0]);
	printf("rebind after close with SO_REUSEADDR %d\n", bind(s, (void *)&a4, sizeof(a4)));
	close(s);
	close(stop_efd[0]);
	close(stop_efd[1]);
}

/* AF_UNIX SEQPACKET: one listener, a thread per connection, records
 * echoed reversed; record boundaries must survive. */
static void *seq_server(void *arg)
{
	int c = (int)(long)arg;
	char buf[512];
	ssize_t n;
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
		for (ssize_t i = 0; i < n / 2; i++) {
			char t = buf[i];
			buf[i] = buf[n - 1 - i];
			buf[n - 1 - i] = t;
		}
		send(c, buf, n, MSG_EOR | MSG_NOSIGNAL);
	}
	close(c);
	return NULL;
}

static void *seq_acceptor(void *arg)
{
	int l = (int)(long)arg;
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		int c = accept(l, NULL, NULL);
		pthread_create(&t[i], NULL, seq_server, (void *)(long)c);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

static socklen_t addr_len;

static void *seq_client(void *arg)
{
	struct sockaddr_un *a = arg;
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	long ok = 0;
	if (connect(c, (void *)a, addr_len) < 0)
		return (void *)-1L;
	for (int i = 1; i <= 200; i++) {
		char msg[300], back[300];
		int len = i % 250 + 1;
		for (int k = 0; k < len; k++)
			msg[k] = 'a' + (k * i) % 26;
		send(c, msg, len, 0);
		ssize_t n = recv(c, back, sizeof(back), 0);
		int good = n == len;
		for (int k = 0; good && k < len; k++)
			good = back[k] == msg[len - 1 - k];
		ok += good;
	}
	close(c);
	return (void *)ok;
}

static void seqpacket_pool(void)
{
	printf("-- unix seqpacket\n");
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	/* An autobound abstract name: runs side by side must not collide. */
	static struct sockaddr_un a;
	sa_family_t fam = AF_UNIX;
	bind(l, (void *)&fam, sizeof(fam));
	socklen_t alen = sizeof(a);
	getsockname(l, (void *)&a, &alen);
	addr_len = alen;
	listen(l, 8);
	pthread_t acc, cl[4];
	pthread_create(&acc, NULL, seq_acceptor, (void *)(long)l);
	for (int i = 0; i < 4; i++)
		pthread_create(&cl[i], NULL, seq_client, &a);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(cl[i], &r);
		printf("seq client %d: %ld of 200 echoed\n", i, (long)r);
	}
	pthread_join(acc, NULL);
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	tcp_echo();
	seqpacket_pool();
	return 0;
}
