/* corosync.conf's nodelist, read and rewritten: what `agentctl node add`
 * and `node forget` change on every node.
 *
 * Pure text in, text out, no I/O.  The parser knows corosync's line
 * syntax ("section {", "key: value", "}", "#" comments) only as far as it
 * needs to find the nodelist's node blocks and the quorum section's
 * expected_votes and two_node; everything else of the file is kept byte
 * for byte, comments included.
 */
#ifndef XM_COROSYNC_CONF_H
#define XM_COROSYNC_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CC_LINKS_MAX    8               /* knet: ring0_addr .. ring7_addr */
#define CC_NAME_MAX     64
#define CC_ADDR_MAX     64
#define CC_NODES_MAX    64              /* as STATE_MAX_NODES */
#define CC_NODEID_MAX   65535           /* knet node ids are 16 bits */

struct cc_node {
	uint32_t nodeid;
	uint32_t votes;                 /* quorum_votes, 1 when not given */
	char name[CC_NAME_MAX];         /* name:, else ring0_addr as corosync does */
	unsigned n_addrs;               /* ring0_addr .. ring(n-1)_addr */
	char addrs[CC_LINKS_MAX][CC_ADDR_MAX];
};

struct cc_nodelist {
	size_t n;
	struct cc_node nodes[CC_NODES_MAX];     /* in file order */
};

/* The nodelist of a corosync.conf text.  0; -ENOENT when it has no
 * nodelist section; -EINVAL for what the parser cannot read (err says
 * what and on which line). */
int cc_parse(const char *text, struct cc_nodelist *nl, char *err, size_t errlen);

/* How many links every node has; -EINVAL when they differ or the list is
 * empty. */
int cc_links(const struct cc_nodelist *nl, unsigned *links, char *err,
	     size_t errlen);

/* Sum of the nodes' votes: what expected_votes must say. */
uint32_t cc_votes(const struct cc_nodelist *nl);

const struct cc_node *cc_find(const struct cc_nodelist *nl, const char *name);

/* Add node name with addrs_csv (one address per link, comma-separated),
 * nodeid the next free one when 0.  Refuses a duplicate name, id or
 * address, a wrong number of addresses, a bad name or address.  On error
 * nl is unchanged. */
int cc_add(struct cc_nodelist *nl, const char *name, uint32_t nodeid,
	   const char *addrs_csv, char *err, size_t errlen);

/* Remove node name; -ENOENT, or -EINVAL for the last node. */
int cc_remove(struct cc_nodelist *nl, const char *name, char *err, size_t errlen);

/* text with its nodelist made exactly nl: unchanged node blocks are kept
 * byte for byte, others removed, replaced or appended (in the indentation
 * of the existing ones); quorum's expected_votes, when present, set to
 * cc_votes(nl), and two_node, when present, to 1 for exactly two nodes
 * and 0 otherwise (corosync refuses two_node with more).  *out is
 * malloc'd.  0, -ENOENT, -EINVAL (err), -ENOMEM. */
int cc_rewrite(const char *text, const struct cc_nodelist *nl, char **out,
	       char *err, size_t errlen);

/* "nodelist { node {...} ... }" for nl alone, tab-indented: what an admin
 * pastes into a new machine's corosync.conf.  *out is malloc'd. */
int cc_format_nodelist(const struct cc_nodelist *nl, char **out);

/* Are the two lists the same set of nodes (order aside)? */
int cc_equal(const struct cc_nodelist *a, const struct cc_nodelist *b);

#endif
