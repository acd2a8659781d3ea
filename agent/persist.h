/* The state file: the replicated state on local disk.
 *
 * Layout: 8-byte magic "XMSTATE1", u32 payload length (big endian),
 * 32-byte BLAKE2b of the payload, payload (state_pack).  Written to a temp
 * file, fsync'd, renamed over the old one, directory fsync'd: a crash at any
 * point leaves either the old or the new file, never a torn one.
 */
#ifndef XM_PERSIST_H
#define XM_PERSIST_H

#include <stddef.h>

#include "state.h"

#define PERSIST_FILE "state.bin"

int persist_save(const char *dir, const struct state *s);
/*
 * 0 loaded; -ENOENT no file (fresh node); XM_ECORRUPT bad magic, length,
 * checksum or content (why says which): the caller sets it aside.
 * Other errors (-EIO, -ENOMEM) are not evidence against the file.
 * s must be initialised (state_init); it is replaced only on success.
 */
int persist_load(const char *dir, struct state *s, char *why, size_t whylen);
/* Rename the state file to state.bin.corrupt-YYYYmmddTHHMMSS; the new
 * name goes to moved_to. */
int persist_set_aside(const char *dir, char *moved_to, size_t len);

#endif
