/* The size of a block device or a regular file, for the small programs
 * that write images onto either (xenmesh-unpack, xenmesh-saveimg). */
#ifndef XM_DEVSIZE_H
#define XM_DEVSIZE_H

#include <stdint.h>

/* 0, -ENOTBLK (neither), or the -errno of fstat/ioctl. */
int dev_size(int fd, uint64_t *size);

#endif
