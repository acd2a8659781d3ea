/* VM templates: what `agentctl vm create` builds a VM from.
 *
 * A template T is a directory [storage] template_dir/T on every SAN node:
 *   info        key = value lines (# comments, blank lines):
 *                 description = TEXT        (shown by template list)
 *                 os_family   = debian|suse (which network files to write)
 *                 kind        = tree|raw    (default tree)
 *                 root_size   = SIZE        (required; --disk overrides)
 *                 swap_size   = SIZE        (default 256M; --swap overrides)
 *                 memory      = MB          (default 512; --memory overrides)
 *                 vcpus       = N           (default 1; --vcpus overrides)
 *   root/       the OS tree (kind tree), copied into the root file system
 *   root.img    a raw disk image (kind raw: parsed, not built yet)
 *   vm.cfg.in   the xl.cfg skeleton, whose @PLACEHOLDERS@ are expanded
 *               (template_cfg_expand below).
 *
 * Pure: no I/O and no logging.  Parses the info file and the skeleton,
 * checks the network parameters and writes the texts of the guest's
 * hostname, hosts, resolver and network files for its OS family.
 */
#ifndef XM_TEMPLATE_H
#define XM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEMPLATE_NAME_MAX   64
#define TEMPLATE_DESC_MAX   200
#define TEMPLATE_FILES_MAX  8
#define TEMPLATE_SWAP_DEFAULT   (256ULL << 20)
#define TEMPLATE_MEMORY_DEFAULT 512
#define TEMPLATE_VCPUS_DEFAULT  1
#define TEMPLATE_MEMORY_MAX     (4u << 20)      /* MB: 4 TiB */
#define TEMPLATE_VCPUS_MAX      512

enum template_os { TEMPLATE_OS_DEBIAN, TEMPLATE_OS_SUSE };
enum template_kind { TEMPLATE_KIND_TREE, TEMPLATE_KIND_RAW };

struct template_info {
	char description[TEMPLATE_DESC_MAX];
	enum template_os os;
	enum template_kind kind;
	uint64_t root_size;             /* bytes */
	uint64_t swap_size;             /* bytes */
	uint32_t memory_mb;
	uint32_t vcpus;
};

const char *template_os_name(enum template_os os);
const char *template_kind_name(enum template_kind k);

/* A template's name: 1..63 of [A-Za-z0-9._-], not starting with '.' or
 * '-' (it is a directory name under template_dir).  0 or -EINVAL. */
int template_name_check(const char *name, char *why, size_t whylen);
/* A decimal number (digits only) in [min, max]: 0, or -EINVAL. */
int template_number(const char *v, uint32_t min, uint32_t max, uint32_t *out);

/* The text of an info file (file: its path, for messages).  0, or
 * -EINVAL with why "FILE:LINE: ..." naming what is wrong (unknown key,
 * bad value, repeated key) or "FILE: no os_family" for what is missing. */
int template_info_parse(const char *text, const char *file,
			struct template_info *out, char *why, size_t whylen);

/* ---- the guest's network ------------------------------------------------ */

/* Dotted-quad IPv4 text -> host-order value.  0 or -EINVAL. */
int template_ipv4_parse(const char *text, uint32_t *out);

/* What vm create was given.  ip NULL: DHCP (then netmask and gateway
 * must be NULL too); netmask defaults to 255.255.255.0 with an ip. */
struct template_net {
	const char *hostname;
	const char *ip, *netmask, *gateway, *nameserver;
};

/* Checks every address (valid IPv4, the netmask contiguous, the gateway
 * inside ip/netmask and neither the network nor the broadcast address,
 * the ip not either) and the hostname (a DNS label).  0 or -EINVAL with
 * why naming the option ("--gateway 10.2.0.1 is not in 10.1.2.0/24"). */
int template_net_check(const struct template_net *n, char *why, size_t whylen);

/* One file of the guest: path relative to its root ("etc/hostname"),
 * text malloc'd. */
struct template_file {
	const char *path;
	char *text;
};

/* The files for os: both families get etc/hostname, etc/hosts and (with
 * a nameserver) etc/resolv.conf; debian etc/network/interfaces; suse
 * etc/HOSTNAME, etc/sysconfig/network/ifcfg-eth0 and (with a gateway)
 * etc/sysconfig/network/routes.  n must have passed template_net_check.
 * 0 with *count files (free with template_files_free), or -ENOMEM. */
int template_net_files(enum template_os os, const struct template_net *n,
		       struct template_file files[TEMPLATE_FILES_MAX],
		       size_t *count);
void template_files_free(struct template_file *files, size_t count);

/* ---- the xl.cfg skeleton ------------------------------------------------ */

/* What the placeholders of vm.cfg.in stand for:
 *   @NAME@         the VM name
 *   @MEMORY@       MB
 *   @VCPUS@        number
 *   @DESCRIPTION@  the description (no quote or backslash: it goes into
 *                  a quoted string)
 *   @IP@           the address, "" for DHCP
 *   @MAC@          the MAC given, "" when none
 *   @MAC_OPT@      "mac=MAC," when one was given, else "" (for a vif spec:
 *                  without one, `vm define` assigns a cluster-unique MAC)
 *   @ROOT_DISK@    'vdev=xvda, access=rw, target=xenmesh:root'
 *   @SWAP_DISK@    'vdev=xvdb, access=rw, target=xenmesh:swap'
 *   @DISKS@        @ROOT_DISK@, @SWAP_DISK@
 * A '@' not starting @UPPER_CASE@ is kept as it is. */
struct template_vars {
	const char *name;
	uint32_t memory_mb, vcpus;
	const char *description;        /* NULL: "" */
	const char *ip;                 /* NULL: "" */
	const char *mac;                /* NULL: none */
};

/* 0 with *out malloc'd, -EINVAL with why "FILE:LINE: unknown
 * placeholder @X@ (...)", -ENOMEM. */
int template_cfg_expand(const char *skeleton, const char *file,
			const struct template_vars *v, char **out,
			char *why, size_t whylen);

#endif
