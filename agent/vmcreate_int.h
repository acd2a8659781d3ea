/* Inside the vm create job (vmcreate.c): its state, shared with the
 * raw image steps (vmcreate_rawjob.c).  Not for other users. */
#ifndef XM_VMCREATE_INT_H
#define XM_VMCREATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdseq.h"
#include "vmcreate.h"
#include "vmcreate_raw.h"

enum step {
	ST_SPACE, ST_ROOT, ST_SWAP, ST_STAGE, ST_FILES, ST_MKFS,
	/* raw images, after ST_STAGE */
	ST_COPY, ST_PROBE, ST_GROW, ST_FSCK, ST_RESIZE, ST_LOOK, ST_WRITE,
	ST_MKSWAP,
	ST_UNSTAGE, ST_DEFINE, ST_DONE,
	/* undoing, in this order */
	ST_UNDO_STAGE, ST_UNDO_SWAP, ST_UNDO_ROOT, ST_UNDONE,
};

struct vmcreate {
	enum step step;
	struct runner *runner;
	const struct vmcreate_env_ops *ops;
	void *env;
	vmcreate_done_fn done;
	void *data;
	/* the spec, copied */
	char name[64];
	enum template_os os;
	char *tree, *staging, *config, *vg;
	char *image;                    /* raw: the image, else NULL */
	uint64_t image_bytes;
	bool partitioned;               /* raw: the image has a table */
	struct rawimg_part part;        /* its last partition (or the whole) */
	char dev[512];                  /* raw: the root volume's device */
	bool dev_is_file;               /* raw: ... a regular file (file backend) */
	char *listing;                  /* raw: debugfs's ls -p of the dirs */
	char fs[600];                   /* raw: DEV?offset=START, or DEV */
	char *ip, *netmask, *gateway, *nameserver;
	bool no_devmapper;
	uint64_t root_bytes, swap_bytes;
	char root_vol[80], swap_vol[80];
	/* what was made, for the undo */
	bool have_root, have_swap, staged;
	int rc;                         /* the failure being undone */
	char failure[VMCREATE_MSG_MAX];
	char left[VMCREATE_MSG_MAX];    /* what the undo could not remove */
};

/* Step j->step failed: the undo starts (j may be freed on return). */
void vmcreate_fail(struct vmcreate *j, int rc, const char *why);
/* Runs step j->step (j may be freed on return). */
void vmcreate_advance(struct vmcreate *j);
/* The guest's files for its OS family (template_files_free them); 0 or
 * -ENOMEM with why. */
int vmcreate_net_files(const struct vmcreate *j, struct template_file *files,
		       size_t *count, char *why, size_t whylen);

/* ---- vmcreate_rawjob.c: the steps ST_COPY .. ST_MKSWAP ------------------ */

/* The commands of step j->step into s: 0, or -1 when the step failed
 * already (vmcreate_fail was called: j may be gone). */
int vmcreate_raw_cmds(struct vmcreate *j, struct cmdseq *s);
/* Those commands ran without a failure that stops them: judge what they
 * said, then go on or fail. */
void vmcreate_raw_done(struct vmcreate *j, const struct cmdseq_outcome *o);

#endif
