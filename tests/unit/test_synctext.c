// SPDX-License-Identifier: MIT
/* The sync's canonical text and section matching (lib/sync/text.c), through
 * wgkit/wgnl_sync.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wgkit/wgnl_sync.h>

#define PRIV "eJeCl7KYpR2GSSE01RW28H++z2lhpeKvI9611Ml1tn0="
#define PSK "wJCJaClPxIYcZRLhTTJiKhvwMO++mbq8dF/s+hKJheI="
#define ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K1 "1YZELM/WjXfIxvsLTZOBo9t5O2dDTkp39Dw/gGhuiMg="
#define K2 "KtestPeer000000000000000000000000000000002A="
#define K3 "KtestPeer000000000000000000000000000000003A="

static const char base[] = "[Interface]\n"
			   "PrivateKey = " PRIV "\n"
			   "ListenPort = 51820\n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " K1 "\n"
			   "PresharedKey = " PSK "\n"
			   "AllowedIPs = 10.0.0.1/32\n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " K2 "\n"
			   "AllowedIPs = 10.0.0.2/32\n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " K3 "\n"
			   "AllowedIPs = 10.0.0.3/32\n";

static void canon(const char *text, struct wgnl_sync_text *t)
{
	assert_int_equal(wgnl_sync_text_make(text, strlen(text), t), 0);
}

static void canonical__secrets_hashed_comments_dropped(void **state)
{
	const char *text = "\xef\xbb\xbf# a comment\r\n"
			   "[Interface]   # here\r\n"
			   "  PrivateKey=" PRIV "  \r\n"
			   "\n"
			   "[peer]\n"
			   "PublicKey = " K1 " # key\n"
			   "presharedkey = " PSK "\n"
			   "PresharedKey = " ZERO "\n";
	struct wgnl_sync_text t;
	wgnl_key k, h;
	wgnl_key_b64 b64;
	char want[512];

	(void)state;
	canon(text, &t);
	assert_null(memmem(t.san, t.san_len, PRIV, strlen(PRIV)));
	assert_null(memmem(t.san, t.san_len, PSK, strlen(PSK)));
	assert_int_equal(wgnl_key_from_base64(k, PSK), 0);
	assert_int_equal(wgnl_sync_secret_hash(h, k), 0);
	wgnl_key_to_base64(b64, h);
	snprintf(want, sizeof(want),
		 "[peer]\nPublicKey = " K1 "\npresharedkey = %s\n"
		 "PresharedKey = " ZERO "\n",
		 b64);
	assert_int_equal(t.n_sec, 1);
	assert_int_equal(t.sec[0].san_len, strlen(want));
	assert_memory_equal(t.san + t.sec[0].san_off, want, strlen(want));
	assert_int_equal(t.iface_len, t.sec[0].san_off);
	assert_memory_equal(t.san, "[Interface]\nPrivateKey = ", 25);
	/* The original section: from its header line to the end. */
	assert_memory_equal(text + t.sec[0].orig_off, "[peer]\n", 7);
	assert_int_equal(t.sec[0].orig_off + t.sec[0].orig_len, strlen(text));
	wgnl_sync_text_clear(&t);
}

static void canonical__refused_for_the_parser(void **state)
{
	static const char *const bad[] = {
		"[Peer]\nPublicKey = " K1 "\n[Interface]\nListenPort = 1\n",
		"[Peers]\n",
		"[Interface]\nPrivateKey = short\n",
		"[Peer]\nPresharedKey = " K1 "x\n",
	};
	struct wgnl_sync_text t;
	char nul[] = "[Peer]\nPublicKey = x\0y\n";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wgnl_sync_text_make(bad[i], strlen(bad[i]), &t), -EINVAL);
		assert_null(t.san);
	}
	assert_int_equal(wgnl_sync_text_make(nul, sizeof(nul) - 1, &t), -EINVAL);
}

static void canonical__text_hash_ignores_comments_not_values(void **state)
{
	struct wgnl_sync_text a, b, c, d;
	char *edited = strdup(base), *p;

	(void)state;
	canon(base, &a);
	canon("# managed\n[Interface]\nPrivateKey = " PRIV "   # k\nListenPort = 51820\n"
	      "[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK "\nAllowedIPs = 10.0.0.1/32\n"
	      "\n\n[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.0.0.2/32\n"
	      "[Peer]\n  PublicKey = " K3 "\nAllowedIPs = 10.0.0.3/32   \n",
	      &b);
	assert_memory_equal(a.text_h, b.text_h, sizeof(a.text_h));
	p = strstr(edited, "10.0.0.2/32");
	p[7] = '9';
	canon(edited, &c);
	assert_memory_not_equal(a.text_h, c.text_h, sizeof(a.text_h));
	assert_memory_equal(a.iface_h, c.iface_h, sizeof(a.iface_h));
	/* Another private key: another [Interface] hash. */
	canon("[Interface]\nPrivateKey = " PSK "\nListenPort = 51820\n", &d);
	assert_memory_not_equal(a.iface_h, d.iface_h, sizeof(a.iface_h));
	wgnl_sync_text_clear(&a);
	wgnl_sync_text_clear(&b);
	wgnl_sync_text_clear(&c);
	wgnl_sync_text_clear(&d);
	free(edited);
}

static void match__reordered_changed_and_duplicated(void **state)
{
	const char *now_text = "[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n"
			       "[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.0.0.3/32\n"
			       "[Peer]\nPublicKey = " K1 "\nPresharedKey = " PSK
			       "\nAllowedIPs = 10.0.0.1/32\n"
			       "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.0.0.22/32\n"
			       "[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.0.0.3/32\n";
	struct wgnl_sync_text old, now;
	bool om[3], nm[4];

	(void)state;
	canon(base, &old);
	canon(now_text, &now);
	assert_int_equal(wgnl_sync_text_match(old.sec, old.n_sec, &now, om, nm), 2);
	/* K1 and K3 pair (in another order); K2 changed; the second K3 is
	 * left over. */
	assert_true(om[0]);
	assert_false(om[1]);
	assert_true(om[2]);
	assert_true(nm[0]);
	assert_true(nm[1]);
	assert_false(nm[2]);
	assert_false(nm[3]);
	assert_memory_equal(now_text + now.sec[2].orig_off, "[Peer]\nPublicKey = " K2, 19 + 44);
	wgnl_sync_text_clear(&old);
	wgnl_sync_text_clear(&now);
}

/* Raw sections: each [Peer] from its header line to the next header; the
 * rest hashed together; a '[' inside a line or a comment starts nothing. */
static void split__raw_sections_and_the_rest(void **state)
{
	const char *text = "\xef\xbb\xbf[Interface]\n"
			   "ListenPort = 51820 # [Peer]\n"
			   "\n"
			   "  [peer]  # one\n"
			   "PublicKey = " K1 "\n"
			   "Endpoint = [::1]:51820\n"
			   "[Peer]\n"
			   "PublicKey = " K2 "\n"
			   "[Unknown]\n"
			   "x = 1\n"
			   "[Peer]\n"
			   "PublicKey = " K3;
	struct wgnl_sync_text a, b;
	char *edit;

	(void)state;
	assert_int_equal(wgnl_sync_text_split(text, strlen(text), &a), 0);
	assert_null(a.san);
	assert_int_equal(a.n_sec, 3);
	assert_int_equal(a.sec[0].orig_off, strstr(text, "  [peer]") - text);
	assert_int_equal(a.sec[0].orig_len,
			 strstr(text, "[Peer]\nPublicKey = " K2) - strstr(text, "  [peer]"));
	assert_int_equal(a.sec[1].orig_len, strlen("[Peer]\nPublicKey = " K2 "\n"));
	assert_int_equal(a.sec[2].orig_off + a.sec[2].orig_len, strlen(text));
	/* The same bytes: the same hashes; one byte of a section: only its. */
	edit = strdup(text);
	assert_non_null(edit);
	*strstr(edit, "51820\n[Peer]") = '6';
	assert_int_equal(wgnl_sync_text_split(edit, strlen(edit), &b), 0);
	assert_int_equal(b.n_sec, 3);
	assert_true(a.sec[0].h[0] != b.sec[0].h[0]);
	assert_true(a.sec[1].h[0] == b.sec[1].h[0] && a.sec[2].h[1] == b.sec[2].h[1]);
	assert_true(a.iface_h[0] == b.iface_h[0] && a.iface_h[1] == b.iface_h[1]);
	wgnl_sync_text_clear(&b);
	/* A byte of the part between sections: the rest's hash only. */
	strcpy(edit, text);
	*strstr(edit, "x = 1") = 'y';
	assert_int_equal(wgnl_sync_text_split(edit, strlen(edit), &b), 0);
	assert_true(a.iface_h[0] != b.iface_h[0]);
	for (size_t i = 0; i < 3; i++)
		assert_true(a.sec[i].h[0] == b.sec[i].h[0]);
	wgnl_sync_text_clear(&b);
	/* No section at all, and nothing. */
	assert_int_equal(wgnl_sync_text_split("# only\n", 7, &b), 0);
	assert_int_equal(b.n_sec, 0);
	wgnl_sync_text_clear(&b);
	assert_int_equal(wgnl_sync_text_split("", 0, &b), 0);
	assert_int_equal(b.n_sec, 0);
	wgnl_sync_text_clear(&b);
	free(edit);
	wgnl_sync_text_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canonical__secrets_hashed_comments_dropped),
		cmocka_unit_test(canonical__refused_for_the_parser),
		cmocka_unit_test(canonical__text_hash_ignores_comments_not_values),
		cmocka_unit_test(match__reordered_changed_and_duplicated),
		cmocka_unit_test(split__raw_sections_and_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
