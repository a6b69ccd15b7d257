// COCOON: --net=host
/* sock_errno.c again with host sockets (--net=host): Linux's answers come
 * from the host there, and must be the same. */
#include "sock_errno.c"
