/*
 * sshsig-tool: a thin command-line face on src/sshkey and src/sshsig, so
 * that the system tests can hold them up against ssh-keygen.
 *
 *	sshsig-tool sign KEY NAMESPACE < payload > sig
 *	sshsig-tool verify PUBFILE NAMESPACE SIG < payload
 *	sshsig-tool signer SIG			prints the signer's public key
 *	sshsig-tool keygen PATH [COMMENT]	writes PATH and PATH.pub
 *	sshsig-tool pubkey KEY			prints the public key line
 *	sshsig-tool fingerprint PUBFILE		prints SHA256:...
 *
 * Exit status: 0 success, 1 refused or failed (message on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

#define INPUT_MAX (32u * 1024 * 1024)

/* Reads all of fd into b, up to INPUT_MAX bytes. Returns 0 or AE_ERR_IO. */
static int
read_all(int fd, const char *name, struct buf *b, struct ae_error *err)
{
	if (read_fd_capped(fd, INPUT_MAX, b) == 0)
		return 0;
	if (errno == EFBIG)
		return ae_error_set(err, AE_ERR_IO, "'%s': more than %u bytes",
		    name, INPUT_MAX);
	return ae_error_set(err, AE_ERR_IO, "unable to read '%s': %s", name,
	    strerror(errno));
}

static int
read_path(const char *path, struct buf *b, struct ae_error *err)
{
	FILE *f;
	int r;

	if ((f = fopen(path, "r")) == NULL)
		return ae_error_set(err, AE_ERR_IO, "unable to open '%s': %s",
		    path, strerror(errno));
	r = read_all(fileno(f), path, b, err);
	fclose(f);
	return r;
}

static int
cmd_sign(const char *keypath, const char *ns, struct ae_error *err)
{
	struct sshkey *key = NULL;
	struct buf payload;
	char *armor = NULL;
	int r;

	buf_init(&payload);
	if ((r = sshkey_load_private(&key, keypath, err)) != 0 ||
	    (r = read_all(0, "stdin", &payload, err)) != 0 ||
	    (r = sshsig_sign(&armor, key, ns, payload.p, payload.len,
	    err)) != 0)
		goto out;
	fputs(armor, stdout);
 out:
	sshkey_free(key);
	buf_release(&payload);
	free(armor);
	return r;
}

static int
cmd_verify(const char *pubpath, const char *ns, const char *sigpath,
    struct ae_error *err)
{
	struct sshkey *key = NULL;
	struct buf payload, sig;
	int r;

	buf_init(&payload);
	buf_init(&sig);
	if ((r = sshkey_load_public(&key, pubpath, err)) != 0 ||
	    (r = read_path(sigpath, &sig, err)) != 0 ||
	    (r = read_all(0, "stdin", &payload, err)) != 0 ||
	    (r = sshsig_verify(sig.p, sig.len, key, ns, payload.p,
	    payload.len, err)) != 0)
		goto out;
	printf("Good signature\n");
 out:
	sshkey_free(key);
	buf_release(&payload);
	buf_release(&sig);
	return r;
}

static int
cmd_signer(const char *sigpath, struct ae_error *err)
{
	struct sshkey *key = NULL;
	struct buf sig;
	char *line = NULL;
	int r;

	buf_init(&sig);
	if ((r = read_path(sigpath, &sig, err)) != 0 ||
	    (r = sshsig_signer(&key, sig.p, sig.len, err)) != 0)
		goto out;
	line = sshkey_format_public(key);
	printf("%s\n", line);
 out:
	sshkey_free(key);
	buf_release(&sig);
	free(line);
	return r;
}

static int
cmd_keygen(const char *path, const char *comment, struct ae_error *err)
{
	struct sshkey *key = NULL;
	int r;

	if ((r = sshkey_generate(&key, comment, err)) == 0)
		r = sshkey_save(key, path, err);
	sshkey_free(key);
	return r;
}

/* Prints KEY's public line (private) or PUBFILE's fingerprint. */
static int
cmd_show(const char *path, int fingerprint, struct ae_error *err)
{
	struct sshkey *key = NULL;
	char *s;
	int r;

	if (fingerprint)
		r = sshkey_load_public(&key, path, err);
	else
		r = sshkey_load_private(&key, path, err);
	if (r != 0)
		return r;
	s = fingerprint ? sshkey_fingerprint(key) : sshkey_format_public(key);
	printf("%s\n", s);
	free(s);
	sshkey_free(key);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: sshsig-tool sign KEY NAMESPACE < payload\n"
	    "       sshsig-tool verify PUBFILE NAMESPACE SIG < payload\n"
	    "       sshsig-tool signer SIG\n"
	    "       sshsig-tool keygen PATH [COMMENT]\n"
	    "       sshsig-tool pubkey KEY\n"
	    "       sshsig-tool fingerprint PUBFILE\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *verb = argc > 1 ? argv[1] : "";
	int r;

	if (ae_crypto_init(&err) != 0) {
		fprintf(stderr, "sshsig-tool: %s\n", err.msg);
		return 1;
	}
	if (strcmp(verb, "sign") == 0 && argc == 4)
		r = cmd_sign(argv[2], argv[3], &err);
	else if (strcmp(verb, "verify") == 0 && argc == 5)
		r = cmd_verify(argv[2], argv[3], argv[4], &err);
	else if (strcmp(verb, "signer") == 0 && argc == 3)
		r = cmd_signer(argv[2], &err);
	else if (strcmp(verb, "keygen") == 0 && (argc == 3 || argc == 4))
		r = cmd_keygen(argv[2], argc == 4 ? argv[3] : "", &err);
	else if (strcmp(verb, "pubkey") == 0 && argc == 3)
		r = cmd_show(argv[2], 0, &err);
	else if (strcmp(verb, "fingerprint") == 0 && argc == 3)
		r = cmd_show(argv[2], 1, &err);
	else
		return usage();
	if (r != 0) {
		fprintf(stderr, "sshsig-tool: %s\n", err.msg);
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sshsig-tool: unable to write output\n");
		return 1;
	}
	return 0;
}
