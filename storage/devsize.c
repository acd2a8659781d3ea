/* See devsize.h. */
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include "devsize.h"

int
dev_size(int fd, uint64_t *size)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (S_ISBLK(sb.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (S_ISREG(sb.st_mode)) {
		*size = (uint64_t)sb.st_size;
		return 0;
	}
	return -ENOTBLK;
}
