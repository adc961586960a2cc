/* vnetctl capture DEV FILE [--count N] [--snaplen N] (vnetctl_capture.c). */
#ifndef VNETCTL_CAPTURE_H
#define VNETCTL_CAPTURE_H
/* argv[0] is "capture"; returns vnetctl's exit status. */
int vnetctl_capture_main(const char *sock, int argc, char **argv);
#endif
