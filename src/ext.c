/*
 * ext: finds, checks and loads the module (see ext.h). The module is
 * opened once, checked through that descriptor, and loaded through it
 * (/proc/self/fd/N), so the file checked is the file loaded.
 */
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext.h"
#include "util.h"

/* Present in programs linked with the module's objects (the tests). */
extern const struct ext_ops ext_table
    __attribute__((weak, visibility("hidden")));

static const struct ext_ops *loaded;

/* The module's path beside the running executable. Caller frees. */
static char *
module_path(struct ae_error *err)
{
	char exe[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		ae_error_set(err, AE_ERR_INTERNAL, "unable to find the "
		    "running executable: %s", strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	return xasprintf("%s/%s", dirname(exe), EXT_RELPATH);
}

/*
 * Opens the module at path and checks it as a trusted file. Returns 0
 * with *fd open and *real its resolved path (caller frees), or an error.
 */
static int
module_open(const char *path, int *fd, char **real, struct ae_error *err)
{
	struct stat st;
	char *copy = NULL;
	int r = AE_ERR_INTERNAL;

	*real = NULL;
	if ((*fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return ae_error_set(err, r, "unable to open '%s': %s", path,
		    strerror(errno));
	if ((*real = xrealpath(path)) == NULL) {
		ae_error_set(err, r, "unable to resolve '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ae_error_set(err, r, "refusing '%s': not a regular file",
		    *real);
		goto out;
	}
	if (check_trusted_stat(*real, "module", &st, err) != 0)
		goto out;
	copy = xstrdup(*real);
	if (stat(dirname(copy), &st) != 0) {
		ae_error_set(err, r, "unable to stat '%s': %s", copy,
		    strerror(errno));
		goto out;
	}
	if (check_trusted_stat(copy, "module directory", &st, err) != 0)
		goto out;
	r = 0;
 out:
	free(copy);
	if (r != 0) {
		err->code = r;
		close(*fd);
		*fd = -1;
	}
	return r;
}

/* Loads the checked module open at fd and takes its table. */
static int
module_load(int fd, const char *real, const struct ext_ops **out,
    struct ae_error *err)
{
	const struct ext_ops *t;
	char fdpath[64];
	const char *why;
	void *h;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if ((h = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		return ae_error_set(err, AE_ERR_INTERNAL, "unable to load "
		    "'%s': %s", real, why != NULL ? why : "unknown error");
	}
	t = dlsym(h, EXT_SYMBOL);
	if (t == NULL || t->version != EXT_VERSION ||
	    t->size != sizeof(*t) || t->build == NULL ||
	    strcmp(t->build, AE_VERSION) != 0) {
		dlclose(h);
		return ae_error_set(err, AE_ERR_INTERNAL, "refusing '%s': "
		    "not the module of approve-exec %s", real, AE_VERSION);
	}
	*out = t;	/* the handle stays open for the process's life */
	return 0;
}

int
ext_load(const struct ext_ops **out, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	char *path = NULL, *real = NULL;
	int fd = -1, r;

	*out = NULL;
	if (loaded == NULL && &ext_table != NULL)
		loaded = &ext_table;
	if (loaded != NULL) {
		*out = loaded;
		return 0;
	}
	if ((path = module_path(&e)) == NULL)
		r = e.code;
	else if ((r = module_open(path, &fd, &real, &e)) == 0)
		r = module_load(fd, real, &loaded, &e);
	if (fd != -1)
		close(fd);
	free(path);
	free(real);
	if (r != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "the module for "
		    "networking and evidence history is unusable: %s", e.msg);
	*out = loaded;
	return 0;
}
