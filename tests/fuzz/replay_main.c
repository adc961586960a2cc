/*
 * Replay driver for the libFuzzer targets, for builds without libFuzzer
 * (gcc, or clang without VNET_FUZZ): feeds every file of the given
 * directories (or files) to LLVMFuzzerTestOneInput, so the seed corpus and
 * any crash reproducer are exercised under ASan/UBSan in every CI run.
 *
 * With "-mutate N" it also feeds N deterministic mutants of each file
 * (byte flips, truncations, extensions; xorshift seeded from the file bytes,
 * so a failure reproduces exactly).  This is not a fuzzer - no coverage feedback - just a
 * cheap way to reach the rejection paths near each seed on every run.
 *
 * Exit status: 0 if at least one input ran and nothing aborted; 1 if no
 * input was found (a vacuous run must not pass).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long mutate_n;
static unsigned long inputs;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Run one input from an exact-size heap copy, so any over-read is caught. */
static void run(const uint8_t *d, size_t n)
{
	/* calloc: the n == 0 case hands over one zeroed (unread) byte. */
	uint8_t *copy = calloc(1, n ? n : 1);
	if (!copy) {
		perror("malloc");
		exit(2);
	}
	if (n)
		memcpy(copy, d, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	inputs++;
}

static void run_with_mutants(const uint8_t *d, size_t n)
{
	run(d, n);
	/* Seed from the file's bytes, not from the directory order, so each
	 * file always gets the same mutants. */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 0x100000001b3ULL;
	rng = h ? h : 0x9e3779b97f4a7c15ULL;
	uint8_t m[8192];
	for (unsigned long i = 0; i < mutate_n; i++) {
		size_t len = n < sizeof(m) ? n : sizeof(m);
		memcpy(m, d, len);
		unsigned edits = 1 + (unsigned)(next() % 4);
		for (unsigned e = 0; e < edits; e++) {
			uint64_t r = next();
			switch (r % 4) {
			case 0: /* flip a bit */
				if (len)
					m[(r >> 8) % len] ^= (uint8_t)(1u << ((r >> 40) % 8));
				break;
			case 1: /* random byte */
				if (len)
					m[(r >> 8) % len] = (uint8_t)(r >> 48);
				break;
			case 2: /* truncate */
				if (len)
					len = (size_t)((r >> 8) % len);
				break;
			default: /* extend with random bytes */
				for (unsigned k = 0; k < 1 + (r >> 8) % 16 && len < sizeof(m); k++)
					m[len++] = (uint8_t)next();
				break;
			}
		}
		run(m, len);
	}
}

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	uint8_t *d = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			d = realloc(d, cap);
			if (!d) {
				perror("realloc");
				exit(2);
			}
		}
		size_t got = fread(d + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	run_with_mutants(d, n);
	free(d);
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *dir = opendir(path);
	if (!dir) {
		perror(path);
		exit(2);
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			run_file(p);
	}
	closedir(dir);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-mutate") == 0 && i + 1 < argc) {
			mutate_n = strtoul(argv[++i], NULL, 10);
			continue;
		}
		run_path(argv[i]);
	}
	printf("replayed %lu inputs\n", inputs);
	return inputs ? 0 : 1;
}
