/*
 * vnetctl_sock.h - connecting to vnetd's control socket, written once for
 * the plain commands (vnetctl.c), monitor and capture.
 */
#ifndef VNETCTL_SOCK_H
#define VNETCTL_SOCK_H

/* A connected AF_UNIX stream socket to path, or -1 with errno set
 * (ENAMETOOLONG when the path does not fit sun_path). */
int vnetctl_connect(const char *path);

#endif
