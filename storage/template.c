/* VM templates: the info file, the guest's network files, the xl.cfg
 * skeleton; see template.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvm.h"
#include "template.h"
#include "xm_error.h"

const char *
template_os_name(enum template_os os)
{
	return os == TEMPLATE_OS_SUSE ? "suse" : "debian";
}

const char *
template_kind_name(enum template_kind k)
{
	return k == TEMPLATE_KIND_RAW ? "raw" : "tree";
}

int
template_name_check(const char *name, char *why, size_t whylen)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= TEMPLATE_NAME_MAX) {
		xm_why(why, whylen, "a template name has 1 to %d characters",
		       TEMPLATE_NAME_MAX - 1);
		return -EINVAL;
	}
	if (name[0] == '.' || name[0] == '-') {
		xm_why(why, whylen, "template name '%s' starts with '%c'", name, name[0]);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
			xm_why(why, whylen, "template name '%s': only letters, digits, "
			       "'.', '_' and '-'", name);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- info ---------------------------------------------------------------- */

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
template_number(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long n;

	if (v[0] < '0' || v[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

enum info_key { K_DESC, K_OS, K_KIND, K_ROOT, K_SWAP, K_MEMORY, K_VCPUS, K_N };

static const char *const info_keys[K_N] = {
	"description", "os_family", "kind", "root_size", "swap_size", "memory", "vcpus",
};

/* One key = value; 0 or -EINVAL with why (without the FILE:LINE). */
static int
info_set(struct template_info *o, enum info_key k, const char *v, char *why,
	 size_t whylen)
{
	char sub[160];

	switch (k) {
	case K_DESC:
		if (strlen(v) >= TEMPLATE_DESC_MAX || strpbrk(v, "\"'\\") != NULL) {
			xm_why(why, whylen, "description: at most %d characters, no "
			       "quote or backslash", TEMPLATE_DESC_MAX - 1);
			return -EINVAL;
		}
		snprintf(o->description, sizeof(o->description), "%s", v);
		return 0;
	case K_OS:
		if (strcmp(v, "debian") == 0)
			o->os = TEMPLATE_OS_DEBIAN;
		else if (strcmp(v, "suse") == 0)
			o->os = TEMPLATE_OS_SUSE;
		else {
			xm_why(why, whylen, "os_family '%.40s': debian or suse", v);
			return -EINVAL;
		}
		return 0;
	case K_KIND:
		if (strcmp(v, "tree") == 0)
			o->kind = TEMPLATE_KIND_TREE;
		else if (strcmp(v, "raw") == 0)
			o->kind = TEMPLATE_KIND_RAW;
		else {
			xm_why(why, whylen, "kind '%.40s': tree or raw", v);
			return -EINVAL;
		}
		return 0;
	case K_ROOT:
	case K_SWAP:
		if (size_parse(v, k == K_ROOT ? &o->root_size : &o->swap_size, sub,
			       sizeof(sub)) < 0) {
			xm_why(why, whylen, "%s: %s", info_keys[k], sub);
			return -EINVAL;
		}
		return 0;
	case K_MEMORY:
		if (template_number(v, 16, TEMPLATE_MEMORY_MAX, &o->memory_mb) < 0) {
			xm_why(why, whylen, "memory '%.40s': a number of MB from 16 to %u",
			       v, TEMPLATE_MEMORY_MAX);
			return -EINVAL;
		}
		return 0;
	case K_VCPUS:
		if (template_number(v, 1, TEMPLATE_VCPUS_MAX, &o->vcpus) < 0) {
			xm_why(why, whylen, "vcpus '%.40s': a number from 1 to %d", v,
			       TEMPLATE_VCPUS_MAX);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int
template_info_parse(const char *text, const char *file, struct template_info *out,
		    char *why, size_t whylen)
{
	bool seen[K_N] = { false };
	char line[1024], sub[256];
	const char *p = text, *nl;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	out->swap_size = TEMPLATE_SWAP_DEFAULT;
	out->memory_mb = TEMPLATE_MEMORY_DEFAULT;
	out->vcpus = TEMPLATE_VCPUS_DEFAULT;
	while (*p != '\0') {
		char *l, *eq, *key, *val;
		size_t len;
		int k;

		lineno++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line)) {
			xm_why(why, whylen, "%s:%u: line longer than %zu characters", file,
			       lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		l = trim(line);
		if (l[0] == '\0' || l[0] == '#')
			continue;
		eq = strchr(l, '=');
		if (eq == NULL) {
			xm_why(why, whylen, "%s:%u: expected KEY = VALUE, not '%.60s'", file,
			       lineno, l);
			return -EINVAL;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		for (k = 0; k < K_N && strcmp(key, info_keys[k]) != 0; k++)
			;
		if (k == K_N) {
			xm_why(why, whylen, "%s:%u: unknown key '%.40s' (description, "
			       "os_family, kind, root_size, swap_size, memory, vcpus)",
			       file, lineno, key);
			return -EINVAL;
		}
		if (seen[k]) {
			xm_why(why, whylen, "%s:%u: %s given twice", file, lineno, key);
			return -EINVAL;
		}
		seen[k] = true;
		if (info_set(out, (enum info_key)k, val, sub, sizeof(sub)) < 0) {
			xm_why(why, whylen, "%s:%u: %s", file, lineno, sub);
			return -EINVAL;
		}
	}
	if (!seen[K_OS]) {
		xm_why(why, whylen, "%s: no os_family (debian or suse)", file);
		return -EINVAL;
	}
	if (!seen[K_ROOT]) {
		xm_why(why, whylen, "%s: no root_size", file);
		return -EINVAL;
	}
	return 0;
}

/* ---- network ------------------------------------------------------------- */

int
template_ipv4_parse(const char *text, uint32_t *out)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal octets: no "10.1", no hex */
	if (text == NULL || inet_pton(AF_INET, text, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static int
prefix_of(uint32_t mask)
{
	int n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	/* contiguous: nothing set after the first zero */
	if (n < 32 && (mask << n) != 0)
		return -1;
	return n;
}

static int
hostname_check(const char *h, char *why, size_t whylen)
{
	size_t len = h ? strlen(h) : 0;

	if (len == 0 || len > 63 || h[0] == '-' || h[len - 1] == '-')
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-')
			goto bad;
	return 0;
bad:
	xm_why(why, whylen, "'%.64s' is not a host name (letters, digits and '-', "
	       "at most 63, not starting or ending with '-'); the VM name is the "
	       "guest's host name", h ? h : "");
	return -EINVAL;
}

int
template_net_check(const struct template_net *n, char *why, size_t whylen)
{
	uint32_t ip, mask = 0xffffff00u, gw, ns;
	int prefix = 24, r;

	r = hostname_check(n->hostname, why, whylen);
	if (r < 0)
		return r;
	if (n->nameserver != NULL && template_ipv4_parse(n->nameserver, &ns) < 0) {
		xm_why(why, whylen, "--nameserver '%.40s' is not an IPv4 address",
		       n->nameserver);
		return -EINVAL;
	}
	if (n->ip == NULL) {
		if (n->netmask != NULL || n->gateway != NULL) {
			xm_why(why, whylen, "--%s without --ip (no --ip: DHCP)",
			       n->netmask ? "netmask" : "gateway");
			return -EINVAL;
		}
		return 0;
	}
	if (template_ipv4_parse(n->ip, &ip) < 0) {
		xm_why(why, whylen, "--ip '%.40s' is not an IPv4 address", n->ip);
		return -EINVAL;
	}
	if (n->netmask != NULL) {
		if (template_ipv4_parse(n->netmask, &mask) < 0 ||
		    (prefix = prefix_of(mask)) < 1 || prefix > 30) {
			xm_why(why, whylen, "--netmask '%.40s' is not a netmask from "
			       "128.0.0.0 to 255.255.255.252", n->netmask);
			return -EINVAL;
		}
	}
	if ((ip & ~mask) == 0 || (ip & ~mask) == ~mask) {
		xm_why(why, whylen, "--ip %s is the %s address of its /%d", n->ip,
		       (ip & ~mask) == 0 ? "network" : "broadcast", prefix);
		return -EINVAL;
	}
	if (n->gateway != NULL) {
		if (template_ipv4_parse(n->gateway, &gw) < 0) {
			xm_why(why, whylen, "--gateway '%.40s' is not an IPv4 address",
			       n->gateway);
			return -EINVAL;
		}
		if ((gw & mask) != (ip & mask) || (gw & ~mask) == 0 ||
		    (gw & ~mask) == ~mask || gw == ip) {
			xm_why(why, whylen, "--gateway %s is not another host of %s/%d",
			       n->gateway, n->ip, prefix);
			return -EINVAL;
		}
	}
	return 0;
}

static int
add_file(struct template_file *f, size_t *count, const char *path, char *text)
{
	if (text == NULL)
		return -ENOMEM;
	f[*count].path = path;
	f[*count].text = text;
	(*count)++;
	return 0;
}

static char *
text_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
text_of(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

#define HEADER "# written by xenmesh (agentctl vm create)\n"

int
template_net_files(enum template_os os, const struct template_net *n,
		   struct template_file files[TEMPLATE_FILES_MAX], size_t *count)
{
	const char *mask = n->netmask ? n->netmask : "255.255.255.0";
	uint32_t m = 0xffffff00u;
	int r = 0;

	*count = 0;
	if (n->ip != NULL && n->netmask != NULL)
		(void)template_ipv4_parse(n->netmask, &m);
	r |= add_file(files, count, "etc/hostname", text_of("%s\n", n->hostname));
	r |= add_file(files, count, "etc/hosts", text_of(
		"127.0.0.1\tlocalhost\n%s\t%s\n\n"
		"::1\tlocalhost ip6-localhost ip6-loopback\n"
		"ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
		n->ip ? n->ip : "127.0.1.1", n->hostname));
	if (n->nameserver != NULL)
		r |= add_file(files, count, "etc/resolv.conf",
			      text_of(HEADER "nameserver %s\n", n->nameserver));
	if (os == TEMPLATE_OS_DEBIAN) {
		if (n->ip == NULL)
			r |= add_file(files, count, "etc/network/interfaces", text_of(
				HEADER "auto lo\niface lo inet loopback\n\n"
				"auto eth0\niface eth0 inet dhcp\n"));
		else
			r |= add_file(files, count, "etc/network/interfaces", text_of(
				HEADER "auto lo\niface lo inet loopback\n\n"
				"auto eth0\niface eth0 inet static\n"
				"\taddress %s\n\tnetmask %s\n%s%s%s",
				n->ip, mask, n->gateway ? "\tgateway " : "",
				n->gateway ? n->gateway : "", n->gateway ? "\n" : ""));
	} else {
		r |= add_file(files, count, "etc/HOSTNAME", text_of("%s\n", n->hostname));
		if (n->ip == NULL)
			r |= add_file(files, count, "etc/sysconfig/network/ifcfg-eth0",
				      text_of(HEADER "BOOTPROTO='dhcp'\nSTARTMODE='auto'\n"));
		else
			r |= add_file(files, count, "etc/sysconfig/network/ifcfg-eth0",
				      text_of(HEADER "BOOTPROTO='static'\nSTARTMODE='auto'\n"
					      "IPADDR='%s/%d'\nNETMASK='%s'\n", n->ip,
					      prefix_of(m), mask));
		if (n->gateway != NULL)
			r |= add_file(files, count, "etc/sysconfig/network/routes",
				      text_of("default %s - -\n", n->gateway));
	}
	if (r != 0) {
		template_files_free(files, *count);
		*count = 0;
		return -ENOMEM;
	}
	return 0;
}

void
template_files_free(struct template_file *files, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(files[i].text);
		files[i].text = NULL;
	}
}

/* ---- vm.cfg.in ----------------------------------------------------------- */

#define ROOT_DISK "'vdev=xvda, access=rw, target=xenmesh:root'"
#define SWAP_DISK "'vdev=xvdb, access=rw, target=xenmesh:swap'"

/* The value of placeholder name (len bytes), or NULL when unknown. */
static const char *
var_value(const struct template_vars *v, const char *name, size_t len,
	  char *num, size_t numlen)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
	if (IS("NAME"))
		return v->name;
	if (IS("MEMORY") || IS("VCPUS")) {
		snprintf(num, numlen, "%u", (unsigned)(IS("MEMORY") ? v->memory_mb : v->vcpus));
		return num;
	}
	if (IS("DESCRIPTION"))
		return v->description ? v->description : "";
	if (IS("IP"))
		return v->ip ? v->ip : "";
	if (IS("MAC"))
		return v->mac ? v->mac : "";
	if (IS("MAC_OPT")) {
		if (v->mac == NULL)
			return "";
		snprintf(num, numlen, "mac=%s,", v->mac);
		return num;
	}
	if (IS("ROOT_DISK"))
		return ROOT_DISK;
	if (IS("SWAP_DISK"))
		return SWAP_DISK;
	if (IS("DISKS"))
		return ROOT_DISK ", " SWAP_DISK;
	return NULL;
#undef IS
}

int
template_cfg_expand(const char *skeleton, const char *file,
		    const struct template_vars *v, char **out, char *why,
		    size_t whylen)
{
	char *buf = NULL, num[64];
	size_t blen = 0;
	unsigned lineno = 1;
	FILE *f;
	int rc = 0;

	*out = NULL;
	f = open_memstream(&buf, &blen);
	if (f == NULL)
		return -ENOMEM;
	for (const char *p = skeleton; *p != '\0'; p++) {
		const char *e = p + 1, *val;

		if (*p == '\n')
			lineno++;
		if (*p != '@') {
			fputc(*p, f);
			continue;
		}
		while ((*e >= 'A' && *e <= 'Z') || *e == '_')
			e++;
		if (*e != '@' || e == p + 1) {
			fputc(*p, f);   /* not a placeholder: a plain '@' */
			continue;
		}
		val = var_value(v, p + 1, (size_t)(e - p - 1), num, sizeof(num));
		if (val == NULL) {
			xm_why(why, whylen, "%s:%u: unknown placeholder %.*s (@NAME@, "
			       "@MEMORY@, @VCPUS@, @DESCRIPTION@, @IP@, @MAC@, @MAC_OPT@, "
			       "@ROOT_DISK@, @SWAP_DISK@, @DISKS@)", file, lineno,
			       (int)(e - p + 1 > 40 ? 40 : e - p + 1), p);
			rc = -EINVAL;
			break;
		}
		fputs(val, f);
		p = e;
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}
