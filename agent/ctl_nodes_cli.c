/* agentctl node add | forget; see ctl_nodes_cli.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corosync_conf.h"
#include "ctl_nodes_cli.h"

#define CONF_MAX (1024 * 1024)

int
ctl_nodes_config(const char *answer, const char *local_conf, char **out,
		 char *err, size_t errlen)
{
	struct cc_nodelist *nl;
	const char *block = answer != NULL ? strstr(answer, "nodelist {") : NULL;
	int r;

	if (block == NULL) {
		(void)snprintf(err, errlen, "xenmeshd's answer holds no nodelist");
		return -EPROTO;
	}
	nl = malloc(sizeof(*nl));
	if (nl == NULL)
		return -ENOMEM;
	r = cc_parse(block, nl, err, errlen);
	if (r == 0)
		r = cc_rewrite(local_conf, nl, out, err, errlen);
	free(nl);
	return r;
}

static int
read_file(const char *path, char **text)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	*text = NULL;
	if (f == NULL)
		return -errno;
	buf = malloc(CONF_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONF_MAX + 1, f);
	fclose(f);
	if (n > CONF_MAX) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

static int
add_print_config(struct ctl_conn *cc, const struct ctl_args *args,
		 const Xenmesh__CtlRequest *req)
{
	const char *path = getenv("COROSYNC_MAIN_CONFIG_FILE");
	Xenmesh__CtlResponse *resp = NULL;
	char *local = NULL, *conf = NULL, err[256] = "";
	int rc, status;

	if (path == NULL || path[0] == '\0')
		path = "/etc/corosync/corosync.conf";
	/* the file is read first: a failure here changes nothing yet */
	rc = read_file(path, &local);
	if (rc < 0) {
		fprintf(stderr, "agentctl: %s: cannot read %s: %s\n", args->name,
			path, strerror(-rc));
		return CTL_EXIT_FAILED;
	}
	rc = ctl_conn_call(cc, req, CTL_TIMEOUT_MS, &resp);
	if (rc < 0) {
		free(local);
		return ctl_client_call_error(cc, args->name, rc);
	}
	if (resp->result < 0) {
		status = ctl_client_refused(args, resp);
		goto out_free;
	}
	rc = ctl_nodes_config(resp->message, local, &conf, err, sizeof(err));
	if (rc < 0) {
		/* the node is added: say so, and why there is no file */
		fprintf(stderr, "agentctl: %s: %s\nagentctl: %s: cannot make its "
			"corosync.conf from %s: %s\n", args->name,
			resp->message ? resp->message : "done", args->name, path, err);
		status = CTL_EXIT_FAILED;
		goto out_free;
	}
	fputs(conf, stdout);
	status = CTL_EXIT_OK;
out_free:
	free(conf);
	free(local);
	xenmesh__ctl_response__free_unpacked(resp, NULL);
	return status;
}

int
ctl_nodes_run(struct ctl_conn *cc, const struct ctl_args *args)
{
	Xenmesh__CtlRequest req = XENMESH__CTL_REQUEST__INIT;
	char *argv[2];

	argv[0] = (char *)args->node;
	req.args = argv;
	req.n_args = 1;
	if (args->cmd == CTL_CMD_NODE_FORGET) {
		req.command = XENMESH__CTL_COMMAND__CTL_NODE_FORGET;
		return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
	}
	req.command = XENMESH__CTL_COMMAND__CTL_NODE_ADD;
	argv[1] = (char *)args->address;
	req.n_args = 2;
	req.role = (char *)args->role;
	req.has_nodeid = args->nodeid != 0;
	req.nodeid = args->nodeid;
	if (args->print_config)
		return add_print_config(cc, args, &req);
	return ctl_client_mutation(cc, args, &req, CTL_TIMEOUT_MS, NULL);
}
