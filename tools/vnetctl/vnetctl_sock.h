/*
 * vnetctl_sock.h - connecting to vnetd's control socket, written once for
 * the plain commands (vnetctl.c), monitor and capture.
 */
#ifndef VNETCTL_SOCK_H
#define VNETCTL_SOCK_H

/* A connected AF_UNIX stream socket to path, or -1 with errno set
 * (ENAMETOOLONG when the path does not fit sun_path). */
int vnetctl_connect(const char *path);

#include <stdbool.h>
#include <stddef.h>

/* Read (wr false) or write (wr true) exactly len bytes on fd, retrying
 * on EINTR; 0, or -1 on an error or end of file first. */
int vnetctl_io_full(int fd, void *buf, size_t len, bool wr);

#endif
