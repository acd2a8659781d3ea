/* Inside `agentctl vm create` / `template` in xenmeshd: the templates
 * on disk (ctl_template.c), shared with ctl_create.c. */
#ifndef XM_CTL_CREATE_INT_H
#define XM_CTL_CREATE_INT_H

#include <limits.h>
#include <stdbool.h>

#include <qb/qbipcs.h>

#include "agent.h"
#include "template.h"

/* A template read from [storage] template_dir. */
struct tmpl {
	char name[TEMPLATE_NAME_MAX];
	char dir[PATH_MAX];
	struct template_info info;
	bool has_tree, has_image;
	char *skeleton;                 /* vm.cfg.in */
};

/* Template name from template_dir: 0, -ENOENT (no such template) or
 * another error, with why naming the file (and line). */
int tmpl_load(const struct agent *a, const char *name, struct tmpl *t, char *why,
	      size_t whylen);
void tmpl_free(struct tmpl *t);

/* The answers of template list and template show (text or JSON). */
void template_list(struct agent *a, qb_ipcs_connection_t *c, bool as_json);
void template_show(struct agent *a, qb_ipcs_connection_t *c, const char *name,
		   bool as_json);

#endif
