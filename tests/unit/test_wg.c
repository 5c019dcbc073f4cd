/* SPDX-License-Identifier: MIT */
/*
 * lib/wg: wg-quick files, "wgX.Y_vZ" names, the UAPI answer and the UAPI
 * socket (against a fake daemon in a child process). Keys are the X25519
 * vectors of RFC 7748 section 6.1; fixtures from tests/unit/fixtures/gen_wg.py.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mp.h"
#include "wg.h"

/* RFC 7748 section 6.1 */
static const char alice_priv[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_pub[] =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char psk[] =
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
/* base64 of bob_pub (Python's base64 module; `wg pubkey` agrees) */
static const char bob_pub_b64[] = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";

static void hex(const uint8_t *k, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static void assert_key(const uint8_t *k, const char *want)
{
	char h[65];

	hex(k, h);
	assert_string_equal(h, want);
}

static void assert_prefix(const struct mp_wg_prefix *p, const char *addr, unsigned plen)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(p->family, p->addr, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(p->plen, plen);
}

static void assert_endpoint(const struct mp_wg_peer *p, const char *addr, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	const void *a;

	assert_int_not_equal(p->endpoint_len, 0);
	if (p->endpoint.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&p->endpoint;

		a = &s->sin_addr;
		assert_int_equal(ntohs(s->sin_port), port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&p->endpoint;

		a = &s->sin6_addr;
		assert_int_equal(ntohs(s->sin6_port), port);
	}
	assert_non_null(inet_ntop(p->endpoint.ss_family, a, buf, sizeof(buf)));
	assert_string_equal(buf, addr);
	assert_int_equal(p->endpoint_port, port);
}

static void test_conf_full(void **state)
{
	struct mp_wg_device *d = NULL;
	char err[128];
	int r;

	(void)state;
	r = mp_wg_conf_load("tests/unit/fixtures/wg_full.conf", &d, err, sizeof(err));
	assert_int_equal(r, 0);
	assert_string_equal(d->ifname, "wg_full");
	assert_true(d->has_private_key);
	assert_key(d->private_key, alice_priv);
	assert_key(d->public_key, alice_pub);	/* derived, RFC 7748 */
	assert_int_equal(d->listen_port, 50024);
	assert_int_equal(d->mtu_bytes, 1380);
	assert_int_equal(d->fwmark, 0x1f);
	assert_int_equal(d->n_dns, 2);
	assert_false(d->save_config);
	assert_int_equal(d->n_addresses, 3);
	assert_prefix(&d->addresses[0], "10.201.1.102", 32);
	assert_prefix(&d->addresses[1], "fdac:c9:1::4:2", 128);
	assert_prefix(&d->addresses[2], "10.9.0.1", 32);
	assert_int_equal(d->n_peers, 3);
	assert_key(d->peers[0].public_key, bob_pub);
	assert_true(d->peers[0].has_preshared_key);
	assert_key(d->peers[0].preshared_key, psk);
	assert_endpoint(&d->peers[0], "192.0.2.2", 50014);
	assert_int_equal(d->peers[0].keepalive_s, 25);
	assert_int_equal(d->peers[0].n_allowed_ips, 2);
	assert_prefix(&d->peers[0].allowed_ips[0], "0.0.0.0", 0);
	assert_prefix(&d->peers[0].allowed_ips[1], "::", 0);
	/* lower-case keys and section, no spaces around '=' */
	assert_key(d->peers[1].public_key, alice_pub);
	assert_false(d->peers[1].has_preshared_key);
	assert_endpoint(&d->peers[1], "2001:db8::2", 51820);
	assert_int_equal(d->peers[1].keepalive_s, 0);
	assert_int_equal(d->peers[1].n_allowed_ips, 1);
	assert_prefix(&d->peers[1].allowed_ips[0], "10.201.3.0", 24);
	/* a host name is kept, not resolved */
	assert_int_equal(d->peers[2].endpoint_len, 0);
	assert_string_equal(d->peers[2].endpoint_host, "vpn.example.org");
	assert_int_equal(d->peers[2].endpoint_port, 443);
	mp_wg_device_free(d);
}

struct bad_conf {
	const char *text;
	const char *msg;
};

static void test_conf_errors(void **state)
{
	static const struct bad_conf cases[] = {
		{ "[Interface]\nListenPort = 70000\n", "line 2: invalid ListenPort '70000'" },
		{ "[Interface]\nPrivateKey = abc\n", "line 2: invalid PrivateKey 'abc'" },
		{ "[Interface]\n\n# c\nFoo = 1\n", "line 4: invalid key in [Interface] 'Foo'" },
		{ "[Interfaces]\n", "line 1: invalid section 'Interfaces'" },
		{ "ListenPort = 1\n", "line 1: invalid key outside a section 'ListenPort'" },
		{ "[Interface]\n[Peer]\nEndpoint = 192.0.2.1:5\n",
		  "line 2: [Peer] without PublicKey" },
		{ "[Interface]\nMTU = 1400\nMTU = 1300\n", "line 3: duplicate MTU" },
		{ "[Interface]\nMTU = 67\n", "line 2: invalid MTU '67'" },
		{ "[Interface]\nListenPort\n", "line 2: invalid line (no '=') 'ListenPort'" },
		{ "[Interface]\nListenPort =\n", "line 2: invalid value (empty) of key 'ListenPort'" },
		{ "[Interface]\nAddress = 10.0.0.1/24,\n", "line 2: invalid Address '10.0.0.1/24,'" },
		{ "[Interface]\nFwMark = 0xg\n", "line 2: invalid FwMark '0xg'" },
		{ "[Interface]\nSaveConfig = yes\n", "line 2: invalid SaveConfig 'yes'" },
		{ "[Interface]\n[Interface]\n", "line 2: second [Interface]" },
		{ "", "line 1: no [Interface] section" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "AllowedIPs = 10.0.0.0/33\n", "line 3: invalid AllowedIPs '10.0.0.0/33'" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "Endpoint = [2001:db8::1:51820\n",
		  "line 3: invalid Endpoint '[2001:db8::1:51820'" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "Endpoint = 192.0.2.1:0\n", "line 3: invalid Endpoint '192.0.2.1:0'" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "Endpoint = 2001:db8::1:5\n", "line 3: invalid Endpoint '2001:db8::1:5'" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "Endpoint = 999.1.1.1:5\n", "line 3: invalid Endpoint '999.1.1.1:5'" },
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=\n"
		  "PersistentKeepalive = -1\n", "line 3: invalid PersistentKeepalive '-1'" },
		/* a key that is 44 characters but not canonical base64 of 32 bytes */
		{ "[Peer]\nPublicKey = 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK0==\n",
		  "line 2: invalid PublicKey '3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK0=='" },
		/* control characters are not echoed; long values are cut */
		{ "[Interface]\nMTU = 1\x01" "0\n", "line 2: invalid MTU '1?0'" },
		{ "[Interface]\nMTU = 12345678901234567890123456789012345678901234567890"
		  "12345678901234567890\n",
		  "line 2: invalid MTU '1234567890123456789012345678901234567890123456789012"
		  "345678901234...'" },
	};
	struct mp_wg_device *d = NULL;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = mp_wg_conf_parse(cases[i].text, strlen(cases[i].text), &d, err,
					 sizeof(err));

		if (r != -EINVAL || strcmp(err, cases[i].msg))
			fail_msg("case %zu: r=%d err \"%s\", want \"%s\"", i, r, err, cases[i].msg);
		assert_null(d);
	}
	/* a NUL byte inside */
	assert_int_equal(mp_wg_conf_parse("[Interface]\nMTU = 1\0" "400\n", 22, &d, err,
					  sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 2: NUL byte in line");
	/* no errbuf at all is fine */
	assert_int_equal(mp_wg_conf_parse("[x]\n", 4, &d, NULL, 0), -EINVAL);
	assert_int_equal(mp_wg_conf_load("tests/unit/fixtures/no-such.conf", &d, err,
					 sizeof(err)), -ENOENT);
}

static void test_ifname(void **state)
{
	static const char *bad[] = {
		"wg01.1_v4", "wg1.01_v4", "wg.1_v4", "wg1._v4", "wg1.2_v5", "wg1.2_v4x",
		"wg1_2_v4", "eth0", "wg1.2v4", "wg1.2_4", "", "wg-1.2_v4", "wg1.2_v",
		"wg1234.1_v4",
	};
	struct mp_wg_ifname n = { 0 }, m;
	char buf[16];

	(void)state;
	assert_int_equal(mp_wg_ifname_parse("wg0.1_v4", &n), 0);
	assert_int_equal(n.local_site, 0);
	assert_int_equal(n.remote_site, 1);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(mp_wg_ifname_parse("wg255.17_v6", &n), 0);
	assert_int_equal(n.local_site, 255);
	assert_int_equal(n.remote_site, 17);
	assert_int_equal(n.family, AF_INET6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mp_wg_ifname_parse(bad[i], &m) >= 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(mp_wg_ifname_parse("wg256.1_v4", &m), -ERANGE);
	assert_int_equal(mp_wg_ifname_parse("wg1.999_v6", &m), -ERANGE);
	assert_int_equal(mp_wg_ifname_format(&n, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "wg255.17_v6");
	assert_int_equal(mp_wg_ifname_format(&n, buf, 11), -ENOSPC);
	n.remote_site = 256;
	assert_int_equal(mp_wg_ifname_format(&n, buf, sizeof(buf)), -EINVAL);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void check_uapi_device(const struct mp_wg_device *d)
{
	assert_true(d->has_private_key);
	assert_key(d->private_key, alice_priv);
	assert_key(d->public_key, alice_pub);
	assert_int_equal(d->listen_port, 50024);
	assert_int_equal(d->fwmark, 31);
	assert_int_equal(d->n_peers, 2);
	assert_key(d->peers[0].public_key, bob_pub);
	assert_true(d->peers[0].has_preshared_key);
	assert_key(d->peers[0].preshared_key, psk);
	assert_endpoint(&d->peers[0], "192.0.2.2", 50014);
	assert_int_equal(d->peers[0].last_handshake_ns, 1700000000250000000ULL);
	assert_int_equal(d->peers[0].tx_bytes, 123456);
	assert_int_equal(d->peers[0].rx_bytes, 7890);
	assert_int_equal(d->peers[0].keepalive_s, 25);
	assert_int_equal(d->peers[0].protocol_version, 1);
	assert_int_equal(d->peers[0].n_allowed_ips, 2);
	assert_prefix(&d->peers[0].allowed_ips[1], "::", 0);
	assert_key(d->peers[1].public_key, alice_pub);
	assert_false(d->peers[1].has_preshared_key);	/* all zero: none */
	assert_endpoint(&d->peers[1], "2001:db8::2", 51820);
	assert_int_equal(d->peers[1].last_handshake_ns, 0);
	assert_prefix(&d->peers[1].allowed_ips[0], "10.201.3.0", 24);
}

static void test_uapi_parse(void **state)
{
	struct mp_wg_device *d = NULL;
	size_t len;
	char *text = slurp("tests/unit/fixtures/wg_uapi_get.txt", &len);
	char buf[256];

	(void)state;
	assert_int_equal(mp_wg_uapi_parse(text, len, &d), 0);
	check_uapi_device(d);
	mp_wg_device_free(d);
	d = NULL;
	/* the daemon's error */
	assert_int_equal(mp_wg_uapi_parse("errno=19\n\n", 10, &d), -19);
	/* cut short: no errno line */
	assert_int_equal(mp_wg_uapi_parse(text, 100, &d), -EINVAL);
	/* bad values of known keys */
	snprintf(buf, sizeof(buf), "public_key=%s\nendpoint=192.0.2.1\nerrno=0\n\n", bob_pub);
	assert_int_equal(mp_wg_uapi_parse(buf, strlen(buf), &d), -EINVAL);
	snprintf(buf, sizeof(buf), "public_key=%.63s\nerrno=0\n\n", bob_pub);
	assert_int_equal(mp_wg_uapi_parse(buf, strlen(buf), &d), -EINVAL);
	snprintf(buf, sizeof(buf), "listen_port=65536\nerrno=0\n\n");
	assert_int_equal(mp_wg_uapi_parse(buf, strlen(buf), &d), -EINVAL);
	snprintf(buf, sizeof(buf), "public_key=%s\nlast_handshake_time_nsec=1000000000\n"
		 "errno=0\n\n", bob_pub);
	assert_int_equal(mp_wg_uapi_parse(buf, strlen(buf), &d), -EINVAL);
	assert_null(d);
	free(text);
}

/* A fake wireguard-go: answers one "get=1" (or stays silent) on dir/ifname.sock. */
static pid_t fake_daemon(const char *dir, const char *ifname, const char *answer)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, c;
	pid_t pid;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir, ifname);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char req[64];
		size_t n = 0;
		ssize_t k;

		c = accept(fd, NULL, NULL);
		while (c >= 0 && n < sizeof(req) - 1 &&
		       (k = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
			n += (size_t)k;
			if (n >= 2 && req[n - 1] == '\n' && req[n - 2] == '\n')
				break;
		}
		if (c < 0 || n != 7 || memcmp(req, "get=1\n\n", 7))
			_exit(3);
		if (!answer) {
			pause();
			_exit(0);
		}
		/* in two pieces, as a stream may deliver it */
		if (write(c, answer, 10) != 10 ||
		    write(c, answer + 10, strlen(answer) - 10) != (ssize_t)strlen(answer) - 10)
			_exit(4);
		close(c);
		_exit(0);
	}
	close(fd);
	return pid;
}

static void test_uapi_get(void **state)
{
	char dir[] = "/tmp/test_wg.XXXXXX", path[128];
	struct mp_wg_device *d = NULL;
	size_t len;
	char *text = slurp("tests/unit/fixtures/wg_uapi_get.txt", &len);
	int status;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	pid = fake_daemon(dir, "wg1.2_v4", text);
	assert_int_equal(mp_wg_uapi_get("wg1.2_v4", dir, 2 * MP_NSEC_PER_SEC, &d), 0);
	assert_string_equal(d->ifname, "wg1.2_v4");
	check_uapi_device(d);
	mp_wg_device_free(d);
	d = NULL;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a daemon that never answers */
	pid = fake_daemon(dir, "wg1.3_v4", NULL);
	assert_int_equal(mp_wg_uapi_get("wg1.3_v4", dir, 100 * MP_NSEC_PER_MSEC, &d),
			 -ETIMEDOUT);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* no daemon, bad names */
	assert_int_equal(mp_wg_uapi_get("wg9.9_v4", dir, 0, &d), -ENOENT);
	assert_int_equal(mp_wg_uapi_get("../x", dir, 0, &d), -EINVAL);
	assert_int_equal(mp_wg_uapi_get("", dir, 0, &d), -EINVAL);
	assert_null(d);
	snprintf(path, sizeof(path), "%s/wg1.2_v4.sock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/wg1.3_v4.sock", dir);
	unlink(path);
	rmdir(dir);
	free(text);
}

static void test_key_base64(void **state)
{
	struct mp_wg_device *d = NULL;
	char conf[128], b64[45];

	(void)state;
	snprintf(conf, sizeof(conf), "[Peer]\nPublicKey = %s\n", bob_pub_b64);
	assert_int_equal(mp_wg_conf_parse(conf, strlen(conf), &d, NULL, 0), 0);
	assert_int_equal(mp_wg_key_to_base64(d->peers[0].public_key, b64, sizeof(b64)), 44);
	assert_string_equal(b64, bob_pub_b64);
	assert_int_equal(mp_wg_key_to_base64(d->peers[0].public_key, b64, 44), -ENOSPC);
	mp_wg_device_free(d);
	mp_wg_device_free(NULL);
}

static void test_mtu_recommend(void **state)
{
	unsigned m = 0;
	bool raised = true;

	(void)state;
	assert_int_equal(mp_wg_mtu_recommend(1500, AF_INET, true, &m, &raised), 0);
	assert_int_equal(m, 1440);
	assert_false(raised);
	assert_int_equal(mp_wg_mtu_recommend(1500, AF_INET6, true, &m, &raised), 0);
	assert_int_equal(m, 1420);
	assert_false(raised);
	/* IPv6 inside needs 1280: raised; without IPv6, the plain difference */
	assert_int_equal(mp_wg_mtu_recommend(1300, AF_INET, true, &m, &raised), 0);
	assert_int_equal(m, 1280);
	assert_true(raised);
	assert_int_equal(mp_wg_mtu_recommend(1300, AF_INET, false, &m, &raised), 0);
	assert_int_equal(m, 1240);
	assert_false(raised);
	assert_int_equal(mp_wg_mtu_recommend(40, AF_INET, false, &m, &raised), 0);
	assert_int_equal(m, 0);
	assert_int_equal(mp_wg_mtu_recommend(1500, AF_UNIX, true, &m, &raised), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_full),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_uapi_parse),
		cmocka_unit_test(test_uapi_get),
		cmocka_unit_test(test_key_base64),
		cmocka_unit_test(test_mtu_recommend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
