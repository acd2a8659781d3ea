/* Inside agent/backup.c and agent/backup_list.c. */
#ifndef XM_BACKUP_INT_H
#define XM_BACKUP_INT_H

#include <stddef.h>

/* "DIR/NAME" into buf (truncated when it does not fit: callers' buffers
 * are PATH_MAX + 64). */
void backup_dir_path(char *buf, size_t len, const char *dir, const char *name);
/* The text of DIR/NAME, at most max bytes, NUL-terminated, malloc'd:
 * 0, -EFBIG, or -errno. */
int backup_file_read(const char *dir, const char *name, size_t max, char **out);

#endif
