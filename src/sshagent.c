/*
 * sshagent: a client of the ssh-agent protocol, the two requests it
 * needs: the identities, and a signature.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sshagent.h"
#include "sshbuf.h"
#include "sshsig.h"
#include "util.h"

#define REQUEST_IDENTITIES	11
#define IDENTITIES_ANSWER	12
#define SIGN_REQUEST		13
#define SIGN_RESPONSE		14

struct agent {
	int fd;
	const struct sshkey *key;
};

static int
agent_connect(int *fd, const char *sock, struct ae_error *err)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return ae_error_set(err, AE_ERR_CONFIG, "SSH_AUTH_SOCK is too "
		    "long");
	memcpy(sa.sun_path, sock, strlen(sock));
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		ae_error_set(err, AE_ERR_CONFIG, "unable to reach the ssh-agent "
		    "at '%s': %s", sock, strerror(errno));
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return AE_ERR_CONFIG;
	}
	return 0;
}

static int
read_full(int fd, unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Sends the message in req (type byte first) and reads the answer into
 * resp (type byte first). Returns 0 or AE_ERR_CRYPTO.
 */
static int
agent_call(int fd, const struct sshbuf *req, struct sshbuf *resp,
    struct ae_error *err)
{
	unsigned char h[4], *p;
	uint32_t n;

	n = (uint32_t)sshbuf_avail(req);
	h[0] = n >> 24; h[1] = n >> 16; h[2] = n >> 8; h[3] = n;
	if (write_all(fd, h, 4) != 0 ||
	    write_all(fd, sshbuf_ptr(req), sshbuf_avail(req)) != 0 ||
	    read_full(fd, h, 4) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO, "the ssh-agent hung "
		    "up");
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3];
	if (n == 0 || n > SSHAGENT_MSG_MAX)
		return ae_error_set(err, AE_ERR_CRYPTO, "the ssh-agent answered "
		    "%lu bytes", (unsigned long)n);
	p = xmalloc(n);
	if (read_full(fd, p, n) != 0) {
		free(p);
		return ae_error_set(err, AE_ERR_CRYPTO, "the ssh-agent hung "
		    "up");
	}
	sshbuf_put(resp, p, n);
	free(p);
	return 0;
}

/* The first ssh-ed25519 key of the agent's identities. */
static int
first_ed25519(int fd, struct sshkey **key, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct sshbuf req, resp;
	const unsigned char *blob, *comment;
	size_t bloblen, clen;
	uint32_t n, i;
	int r;

	*key = NULL;
	sshbuf_init(&req);
	sshbuf_init(&resp);
	sshbuf_put_u8(&req, REQUEST_IDENTITIES);
	if ((r = agent_call(fd, &req, &resp, err)) != 0)
		goto out;
	r = AE_ERR_CRYPTO;
	if (sshbuf_ptr(&resp)[0] != IDENTITIES_ANSWER) {
		ae_error_set(err, r, "the ssh-agent did not list its keys");
		goto out;
	}
	resp.off = 1;
	if (sshbuf_get_u32(&resp, &n) != 0) {
		ae_error_set(err, r, "the ssh-agent's list of keys is cut short");
		goto out;
	}
	for (i = 0; i < n && *key == NULL; i++) {
		if (sshbuf_get_string(&resp, &blob, &bloblen) != 0 ||
		    sshbuf_get_string(&resp, &comment, &clen) != 0) {
			ae_error_set(err, r, "the ssh-agent's list of keys is "
			    "cut short");
			goto out;
		}
		(void)sshkey_from_blob(key, blob, bloblen, "agent key", &e);
	}
	r = 0;
	if (*key == NULL)
		r = ae_error_set(err, AE_ERR_CONFIG, "the ssh-agent holds no "
		    "ssh-ed25519 key");
out:
	sshbuf_release(&req);
	sshbuf_release(&resp);
	return r;
}

static int
agent_signer(void *arg, const unsigned char *data, size_t len,
    unsigned char sig[64], struct ae_error *err)
{
	struct agent *a = arg;
	struct sshbuf req, resp, blob;
	const unsigned char *s, *type, *raw;
	size_t slen, tlen, rawlen;
	int r;

	sshbuf_init(&req);
	sshbuf_init(&resp);
	sshbuf_put_u8(&req, SIGN_REQUEST);
	sshbuf_init(&blob);
	sshkey_put_public(&blob, a->key);
	sshbuf_put_stringb(&req, &blob);
	sshbuf_release(&blob);
	sshbuf_put_string(&req, data, len);
	sshbuf_put_u32(&req, 0);
	if ((r = agent_call(a->fd, &req, &resp, err)) != 0)
		goto out;
	r = AE_ERR_CRYPTO;
	if (sshbuf_ptr(&resp)[0] != SIGN_RESPONSE) {
		ae_error_set(err, r, "the ssh-agent refused to sign");
		goto out;
	}
	resp.off = 1;
	if (sshbuf_get_string(&resp, &s, &slen) != 0 ||
	    sshbuf_avail(&resp) != 0) {
		ae_error_set(err, r, "the ssh-agent's signature is malformed");
		goto out;
	}
	sshbuf_view(&blob, s, slen);
	if (sshbuf_get_string(&blob, &type, &tlen) != 0 ||
	    sshbuf_get_string(&blob, &raw, &rawlen) != 0 ||
	    sshbuf_avail(&blob) != 0 || !sshbuf_eq(type, tlen, SSHKEY_TYPE) ||
	    rawlen != 64) {
		ae_error_set(err, r, "the ssh-agent's signature is malformed");
		goto out;
	}
	memcpy(sig, raw, 64);
	r = 0;
out:
	sshbuf_release(&req);
	sshbuf_release(&resp);
	return r;
}

int
sshagent_sign(char **armor, struct sshkey **key, const char *sock,
    const char *ns, const void *payload, size_t len, struct ae_error *err)
{
	struct agent a = { -1, NULL };
	int r;

	*armor = NULL;
	*key = NULL;
	if ((r = agent_connect(&a.fd, sock, err)) != 0 ||
	    (r = first_ed25519(a.fd, key, err)) != 0)
		goto out;
	a.key = *key;
	r = sshsig_sign_with(armor, *key, agent_signer, &a, ns, payload, len,
	    err);
out:
	if (a.fd != -1)
		close(a.fd);
	if (r != 0) {
		sshkey_free(*key);
		*key = NULL;
	}
	return r;
}
