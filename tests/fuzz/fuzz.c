/* Helpers for the fuzz targets; see fuzz.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

static char *dir;

void (*fuzz_http)(const struct http_req *req, struct http_resp *resp);
int (*fuzz_url_check)(const char *url, int *loopback, struct ae_error *err);

void
http_resp_init(struct http_resp *resp)
{
	resp->status = 0;
	buf_init(&resp->body);
	resp->retry_after[0] = '\0';
}

void
http_resp_release(struct http_resp *resp)
{
	if (resp != NULL)
		buf_release(&resp->body);
}

int
http_url_check(const char *url, int *loopback, struct ae_error *err)
{
	if (fuzz_url_check != NULL)
		return fuzz_url_check(url, loopback, err);
	if (loopback != NULL)
		*loopback = 1;
	return 0;
}

int
http_request(const struct http_req *req, struct http_resp *resp,
    struct ae_error *err)
{
	if (fuzz_http == NULL)
		return ae_error_set(err, AE_ERR_NETWORK, "no network here");
	fuzz_http(req, resp);
	return 0;
}

char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s;

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

char **
fuzz_words(const uint8_t *data, size_t size)
{
	char **v = NULL;
	size_t i, start = 0;

	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\0')
			continue;
		if (i < size || i > start)
			v = strv_push_take(v, xstrndup((const char *)data +
			    start, i - start));
		start = i + 1;
	}
	return v;
}

static void
dir_remove(void)
{
	struct dirent *e;
	DIR *d;
	char *p;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
	dir = NULL;
}

const char *
fuzz_dir(void)
{
	const char *tmp;

	if (dir != NULL)
		return dir;
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	dir = xasprintf("%s/ae-fuzz.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	atexit(dir_remove);
	return dir;
}

char *
fuzz_file(const char *name, const uint8_t *data, size_t size, mode_t mode)
{
	char *path;
	int fd;

	path = xasprintf("%s/%s", fuzz_dir(), name);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1 || write_all(fd, data, size) != 0 ||
	    fchmod(fd, mode) != 0 || close(fd) != 0) {
		perror(path);
		abort();
	}
	return path;
}
