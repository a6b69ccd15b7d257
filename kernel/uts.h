/* The sandbox's UTS names (like a UTS namespace of its own): the node
 * name starts as the host's and the domain name as "(none)"; a guest
 * with CAP_SYS_ADMIN changes them with sethostname/setdomainname, and
 * uname and /proc/sys/kernel/{hostname,domainname} show them. The
 * release and version are the host's (kernel-version checks see a real
 * kernel). kernel/uts.c. */
#ifndef COCOON_UTS_H
#define COCOON_UTS_H

#include <sys/utsname.h>

/* What uname(2) returns. */
void uts_get(struct utsname *u);

#endif
