/*
 * Private to history/: the careful file handling the spool and the
 * STARTTLS pins share.  Files beside the database may have been put
 * there by someone else: only this user's regular files and
 * directories are read, never through a symbolic link, never a FIFO.
 */
#ifndef EHLO_HISTORY_HIST_FS_H
#define EHLO_HISTORY_HIST_FS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Opens path for reading when it is a regular file owned by this user
 * (*sb then describes it).  Returns the descriptor, or -1.
 */
int hist_fs_open_ours(const char *path, struct stat *sb);

/* Reads n octets at offset at; 0, or -1 when they are not all there. */
int hist_fs_read_at(int fd, void *p, size_t n, off_t at);

/* Whether dir is a directory (not a link to one) of this user's. */
int hist_fs_dir_ours(const char *dir);

/* Whether a directory entry's name ends with suffix (no dot files). */
int hist_fs_named(const char *name, const char *suffix);

/*
 * What identifies a file's version without reading it (device, inode,
 * size, modification time), allocated, or NULL when it cannot be
 * stat'ed or is not a regular file.
 */
char *hist_fs_print(const char *path);

#endif
