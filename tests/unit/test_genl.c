// SPDX-License-Identifier: MIT
/* The generic netlink backend without a kernel: parsing recorded dumps,
 * building set messages at a cursor, and reading those back. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>

#include "linux/genl.h"
#include "genl_fixtures.h"
#include "wgkit/wgnl.h"

#define FAMILY 0x1b
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ helpers */

static void key_of(wgnl_key k, uint32_t i, uint8_t tag)
{
	memset(k, tag, WGNL_KEY_LEN);
	memcpy(k, &i, sizeof(i));
}

static void b64key(wgnl_key k, const char *b64)
{
	assert_int_equal(wgnl_key_from_base64(k, b64), 0);
}

static struct wgnl_prefix v4(uint32_t host, uint8_t cidr)
{
	struct wgnl_prefix p = { .family = AF_INET, .cidr = cidr };

	p.ip4.s_addr = htonl(host);
	return p;
}

static struct wgnl_prefix v6(uint32_t i, uint8_t cidr)
{
	struct wgnl_prefix p = { .family = AF_INET6, .cidr = cidr };

	p.ip6.s6_addr[0] = 0xfd;
	memcpy(&p.ip6.s6_addr[12], &i, sizeof(i));
	return p;
}

/* A copy of one message in a buffer of exactly its length, so ASan sees any
 * read past it. */
static struct nlmsghdr *exact_copy(const struct nlmsghdr *m, size_t len)
{
	struct nlmsghdr *c = malloc(len);

	assert_non_null(c);
	memcpy(c, m, len);
	return c;
}

/* Parse every message of @buf (back-to-back netlink messages) into a new
 * device named @name. Returns the parse result; *ret holds the device. */
static int parse_all(const uint8_t *buf, size_t len, const char *name, struct wgnl_device **ret)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new(name) };
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	int left = (int)len, r = 0;

	assert_non_null(st.dev);
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		struct nlmsghdr *c = exact_copy(m, m->nlmsg_len);

		r = wgi_genl_parse_msg(c, &st);
		free(c);
		if (r < 0)
			break;
	}
	*ret = st.dev;
	return r;
}

/* All set messages of @dev, back to back. */
struct built {
	uint8_t *buf;
	size_t len;
	unsigned msgs;
};

static int build_all(const struct wgnl_device *dev, size_t bufsize, struct built *b)
{
	struct wgi_genl_set_cursor cur = { 0 };
	uint8_t *msg = malloc(bufsize);
	int r;

	assert_non_null(msg);
	memset(b, 0, sizeof(*b));
	while ((r = wgi_genl_build_set(dev, FAMILY, msg, bufsize, &cur)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;

		assert_true(nlh->nlmsg_len <= bufsize);
		assert_true(nlh->nlmsg_len <= WGI_GENL_SET_BUF);
		b->buf = realloc(b->buf, b->len + MNL_ALIGN(nlh->nlmsg_len));
		assert_non_null(b->buf);
		memcpy(b->buf + b->len, msg, nlh->nlmsg_len);
		b->len += MNL_ALIGN(nlh->nlmsg_len);
		b->msgs++;
		assert_true(b->msgs < 100000); /* no endless loop */
	}
	free(msg);
	assert_int_equal(cur.msgs, b->msgs);
	return r;
}

/* Walk the raw bytes without the library: every nest's length must equal
 * what its children fill (a 16-bit overflow would break that) and stay
 * below 65536. Returns the largest nest seen. */
static size_t check_nests(const uint8_t *p, size_t len)
{
	size_t biggest = 0;

	while (len) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;

		assert_true(len >= sizeof(*a));
		assert_true(a->nla_len >= sizeof(*a) && a->nla_len <= len);
		if (a->nla_type & NLA_F_NESTED) {
			size_t inner =
				check_nests(p + MNL_ATTR_HDRLEN, a->nla_len - MNL_ATTR_HDRLEN);

			assert_true(a->nla_len < 65536);
			if (a->nla_len > biggest)
				biggest = a->nla_len;
			if (inner > biggest)
				biggest = inner;
		}
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			break;
		len -= step;
		p += step;
	}
	return biggest;
}

/* The peers of one message: flags attribute value per peer key, for
 * checking what each fragment says. */
struct frag {
	wgnl_key key;
	uint32_t flags;
	bool has_flags, has_psk, has_endpoint, has_aips;
	size_t n_aips;
};

struct frag_walk {
	struct frag f[2048];
	size_t n;
	bool dev_flags, dev_key, dev_port;
};

static int frag_aip_cb(const struct nlattr *a, void *data)
{
	((struct frag *)data)->n_aips++;
	return MNL_CB_OK;
}

static int frag_peer_cb(const struct nlattr *a, void *data)
{
	struct frag *f = data;

	switch (mnl_attr_get_type(a)) {
	case WGPEER_A_PUBLIC_KEY:
		memcpy(f->key, mnl_attr_get_payload(a), WGNL_KEY_LEN);
		break;
	case WGPEER_A_FLAGS:
		f->flags = mnl_attr_get_u32(a);
		f->has_flags = true;
		break;
	case WGPEER_A_PRESHARED_KEY:
		f->has_psk = true;
		break;
	case WGPEER_A_ENDPOINT:
		f->has_endpoint = true;
		break;
	case WGPEER_A_ALLOWEDIPS:
		f->has_aips = true;
		mnl_attr_parse_nested(a, frag_aip_cb, f);
		break;
	}
	return MNL_CB_OK;
}

static int frag_list_cb(const struct nlattr *a, void *data)
{
	struct frag_walk *w = data;

	assert_true(w->n < ARRAY_SIZE(w->f));
	memset(&w->f[w->n], 0, sizeof(w->f[0]));
	mnl_attr_parse_nested(a, frag_peer_cb, &w->f[w->n]);
	w->n++;
	return MNL_CB_OK;
}

static int frag_dev_cb(const struct nlattr *a, void *data)
{
	struct frag_walk *w = data;

	switch (mnl_attr_get_type(a)) {
	case WGDEVICE_A_FLAGS:
		w->dev_flags = true;
		break;
	case WGDEVICE_A_PRIVATE_KEY:
		w->dev_key = true;
		break;
	case WGDEVICE_A_LISTEN_PORT:
		w->dev_port = true;
		break;
	case WGDEVICE_A_PEERS:
		mnl_attr_parse_nested(a, frag_list_cb, w);
		break;
	}
	return MNL_CB_OK;
}

static void frag_walk(const struct nlmsghdr *m, struct frag_walk *w)
{
	memset(w, 0, sizeof(*w));
	assert_true(mnl_attr_parse(m, GENL_HDRLEN, frag_dev_cb, w) >= 0);
}

/* Same device, same peers in the same order with the same settable fields
 * and allowed IPs. */
static void assert_same_device(const struct wgnl_device *a, const struct wgnl_device *b)
{
	const uint32_t dmask = WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT |
			       WGNL_DEV_HAS_FWMARK | WGNL_DEV_REPLACE_PEERS;
	const uint32_t pmask = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_PRESHARED_KEY |
			       WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE | WGNL_PEER_REMOVE |
			       WGNL_PEER_REPLACE_ALLOWEDIPS | WGNL_PEER_UPDATE_ONLY;
	size_t skipped = 0;

	assert_string_equal(a->name, b->name);
	assert_int_equal(a->flags & dmask, b->flags & dmask);
	if (a->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		assert_memory_equal(a->private_key, b->private_key, WGNL_KEY_LEN);
	if (a->flags & WGNL_DEV_HAS_LISTEN_PORT)
		assert_int_equal(a->listen_port, b->listen_port);
	if (a->flags & WGNL_DEV_HAS_FWMARK)
		assert_int_equal(a->fwmark, b->fwmark);
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct wgnl_peer *p = &a->peers[i], *q;

		if (p->flags & WGNL_PEER_SKIP) {
			assert_null(wgnl_device_find_peer(b, p->public_key));
			skipped++;
			continue;
		}
		q = &b->peers[i - skipped];
		assert_memory_equal(p->public_key, q->public_key, WGNL_KEY_LEN);
		assert_int_equal(p->flags & pmask, q->flags & pmask);
		if (p->flags & WGNL_PEER_REMOVE) {
			assert_int_equal(q->n_allowedips, 0);
			continue;
		}
		if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY)
			assert_memory_equal(p->preshared_key, q->preshared_key, WGNL_KEY_LEN);
		if (p->flags & WGNL_PEER_HAS_ENDPOINT)
			assert_true(wgnl_endpoint_equal(&p->endpoint, &q->endpoint));
		if (p->flags & WGNL_PEER_HAS_KEEPALIVE)
			assert_int_equal(p->persistent_keepalive, q->persistent_keepalive);
		assert_int_equal(p->n_allowedips, q->n_allowedips);
		for (size_t j = 0; j < p->n_allowedips; j++) {
			assert_int_equal(wgnl_prefix_cmp(&p->allowedips[j], &q->allowedips[j]), 0);
			assert_int_equal(p->allowedips[j].flags, q->allowedips[j].flags);
		}
	}
	assert_int_equal(a->n_peers - skipped, b->n_peers);
}

/* A device of @n peers with @aips allowed IPs each, keys, endpoints. */
static struct wgnl_device *make_device(uint32_t n, uint32_t aips)
{
	struct wgnl_device *dev = wgnl_device_new("wg0");

	assert_non_null(dev);
	assert_int_equal(wgnl_device_reserve(dev, n), 0);
	dev->flags = WGNL_DEV_REPLACE_PEERS | WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT |
		     WGNL_DEV_HAS_FWMARK;
	key_of(dev->private_key, 7, 0x77);
	dev->listen_port = 51820;
	dev->fwmark = 42;
	for (uint32_t i = 0; i < n; i++) {
		struct wgnl_peer *p;
		struct wgnl_prefix pre;
		wgnl_key k;

		key_of(k, i, 0xa5);
		assert_int_equal(wgnl_device_add_peer(dev, k, &p), 0);
		p->flags |= WGNL_PEER_HAS_PRESHARED_KEY | WGNL_PEER_HAS_ENDPOINT |
			    WGNL_PEER_HAS_KEEPALIVE | WGNL_PEER_REPLACE_ALLOWEDIPS;
		key_of(p->preshared_key, i, 0x5a);
		if (i % 2) {
			p->endpoint.addr4.sin_family = AF_INET;
			p->endpoint.addr4.sin_addr.s_addr = htonl(0xc0000200u + (i & 0xff));
			p->endpoint.addr4.sin_port = htons(51820);
		} else {
			p->endpoint.addr6.sin6_family = AF_INET6;
			p->endpoint.addr6.sin6_addr.s6_addr[0] = 0x20;
			p->endpoint.addr6.sin6_port = htons((uint16_t)i);
		}
		p->persistent_keepalive = (uint16_t)(i % 60);
		for (uint32_t j = 0; j < aips; j++) {
			pre = j % 2 ? v6(i * 16 + j, 128) : v4(0x0a000000u + i * 16 + j, 32);
			assert_int_equal(wgnl_peer_add_allowedip(p, &pre), 0);
		}
	}
	return dev;
}

static size_t count_key(const uint8_t *buf, size_t len, const wgnl_key k)
{
	size_t n = 0;

	for (const uint8_t *p = buf; (p = memmem(p, len - (size_t)(p - buf), k, WGNL_KEY_LEN)); p++)
		n++;
	return n;
}

/* ----------------------------------------------------- recorded dump */

static void parse__recorded_dump__device_and_all_peers(void **state)
{
	struct wgnl_device *dev;
	struct wgnl_peer *a, *b, *c;
	wgnl_key k;
	char buf[64];

	(void)state;
	assert_int_equal(parse_all(genl_rec_dump, genl_rec_dump_len, "", &dev), 0);
	assert_string_equal(dev->name, "wgrec");
	assert_true(dev->ifindex > 0);
	assert_true(dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	assert_true(dev->flags & WGNL_DEV_HAS_PUBLIC_KEY);
	b64key(k, GENL_REC_PRIV);
	assert_memory_equal(dev->private_key, k, WGNL_KEY_LEN);
	b64key(k, GENL_REC_PUB);
	assert_memory_equal(dev->public_key, k, WGNL_KEY_LEN);
	assert_int_equal(dev->listen_port, 51820);
	assert_int_equal(dev->fwmark, 0x1234);
	assert_int_equal(dev->n_peers, 3);

	b64key(k, GENL_REC_PEER_A);
	a = wgnl_device_find_peer(dev, k);
	assert_non_null(a);
	assert_true(a->flags & WGNL_PEER_HAS_PRESHARED_KEY);
	b64key(k, GENL_REC_PSK_A);
	assert_memory_equal(a->preshared_key, k, WGNL_KEY_LEN);
	assert_true(a->flags & WGNL_PEER_HAS_ENDPOINT);
	assert_string_equal(wgnl_endpoint_format(&a->endpoint, buf, sizeof(buf)),
			    "192.0.2.1:51821");
	assert_int_equal(a->persistent_keepalive, 25);
	assert_true(a->flags & WGNL_PEER_HAS_LAST_HANDSHAKE);
	assert_true(a->flags & WGNL_PEER_HAS_RX_TX);
	assert_true(a->flags & WGNL_PEER_HAS_PROTOCOL_VERSION);
	assert_int_equal(a->protocol_version, 1);
	assert_int_equal(a->n_allowedips, 2);
	wgnl_device_sort_allowedips(dev);
	assert_string_equal(wgnl_prefix_format(&a->allowedips[0], buf, sizeof(buf)), "10.0.0.1/32");
	assert_string_equal(wgnl_prefix_format(&a->allowedips[1], buf, sizeof(buf)), "fd00::1/128");

	b64key(k, GENL_REC_PEER_B);
	b = wgnl_device_find_peer(dev, k);
	assert_non_null(b);
	assert_false(b->flags & WGNL_PEER_HAS_PRESHARED_KEY); /* all zero from the kernel */
	assert_string_equal(wgnl_endpoint_format(&b->endpoint, buf, sizeof(buf)),
			    "[2001:db8::1]:51822");
	assert_int_equal(b->n_allowedips, GENL_REC_PEER_B_AIPS);
	for (uint32_t i = 0; i < GENL_REC_PEER_B_AIPS; i++) {
		struct wgnl_prefix want = v4(0x0a010000u + i, 32);

		assert_int_equal(wgnl_prefix_cmp(&b->allowedips[i], &want), 0);
	}

	b64key(k, GENL_REC_PEER_C);
	c = wgnl_device_find_peer(dev, k);
	assert_non_null(c);
	assert_false(c->flags & WGNL_PEER_HAS_ENDPOINT);
	assert_int_equal(c->n_allowedips, 1);
	assert_string_equal(wgnl_prefix_format(&c->allowedips[0], buf, sizeof(buf)), "10.2.0.0/16");
	wgnl_device_free(dev);
}

static void parse__recorded_split_peer__coalesced_into_one(void **state)
{
	struct wgnl_device *dev;
	wgnl_key k;

	(void)state;
	/* The recording really splits peer B: its key is in several messages. */
	b64key(k, GENL_REC_PEER_B);
	assert_true(genl_rec_dump_msgs >= 2);
	assert_true(count_key(genl_rec_dump, genl_rec_dump_len, k) >= 2);
	assert_int_equal(parse_all(genl_rec_dump, genl_rec_dump_len, "", &dev), 0);
	assert_int_equal(dev->n_peers, 3);
	assert_int_equal(wgnl_device_find_peer(dev, k)->n_allowedips, GENL_REC_PEER_B_AIPS);
	wgnl_device_free(dev);
}

/* Every truncation of every recorded message either parses (cut at the
 * end of a top-level attribute) or fails with -EBADMSG; inside the peers
 * nest it always fails. ASan watches the reads. */
static void parse__recorded_truncated__ebadmsg_no_crash(void **state)
{
	const struct nlmsghdr *m = (const struct nlmsghdr *)genl_rec_dump;
	int left = (int)genl_rec_dump_len;
	unsigned bad = 0, tried = 0;

	(void)state;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		size_t peers_off = 0;
		const struct nlattr *a;

		mnl_attr_for_each (a, m, GENL_HDRLEN)
			if (mnl_attr_get_type(a) == WGDEVICE_A_PEERS)
				peers_off = (size_t)((const uint8_t *)a - (const uint8_t *)m);
		assert_true(peers_off > 0);
		for (size_t len = 0; len < m->nlmsg_len; len++) {
			struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
			struct nlmsghdr *c = exact_copy(m, m->nlmsg_len > len ? len : 1);
			int r;

			if (len >= sizeof(*c)) {
				c->nlmsg_len = (uint32_t)len;
				r = wgi_genl_parse_msg(c, &st);
			} else {
				r = -EBADMSG; /* the transport never hands over less */
			}
			assert_true(r == 0 || r == -EBADMSG);
			if (len > peers_off)
				assert_int_equal(r, -EBADMSG);
			bad += r == -EBADMSG;
			tried++;
			free(c);
			wgnl_device_free(st.dev);
		}
	}
	assert_true(bad > tried / 2);
}

/* Corrupt one length field at a time in the first message: never a crash,
 * only 0 or -EBADMSG. */
static void parse__recorded_corrupt_lengths__no_crash(void **state)
{
	const struct nlmsghdr *m = (const struct nlmsghdr *)genl_rec_dump;
	size_t len = m->nlmsg_len;

	(void)state;
	for (size_t off = MNL_NLMSG_HDRLEN + GENL_HDRLEN; off + 2 <= len; off += 4) {
		static const uint16_t vals[] = { 0, 3, 5, 33, 0xffff };

		for (size_t v = 0; v < ARRAY_SIZE(vals); v++) {
			struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
			struct nlmsghdr *c = exact_copy(m, len);
			int r;

			memcpy((uint8_t *)c + off, &vals[v], sizeof(vals[v]));
			r = wgi_genl_parse_msg(c, &st);
			assert_true(r == 0 || r == -EBADMSG);
			free(c);
			wgnl_device_free(st.dev);
		}
	}
}

/* ------------------------------------------------- hand-made messages */

struct msgbuf {
	uint8_t b[8192] __attribute__((aligned(4)));
};

static struct nlmsghdr *start_msg(struct msgbuf *mb)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(mb->b);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = 1;
	return nlh;
}

static void put_aip(struct nlmsghdr *nlh, uint32_t host, uint16_t unknown_type)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, 0);
	uint32_t addr = htonl(host);

	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	if (unknown_type)
		mnl_attr_put_u32(nlh, unknown_type, 0xdeadbeef);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, &addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 32);
	mnl_attr_nest_end(nlh, n);
}

/* Peer @key with allowed IPs [from, to). */
static void put_peer(struct nlmsghdr *nlh, const wgnl_key key, uint32_t from, uint32_t to,
		     uint16_t unknown_type)
{
	struct nlattr *p = mnl_attr_nest_start(nlh, 0), *l;

	if (unknown_type)
		mnl_attr_put(nlh, unknown_type, 0, NULL); /* e.g. padding, type 0 */
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WGNL_KEY_LEN, key);
	if (unknown_type)
		mnl_attr_put_u64(nlh, 99, 1);
	l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	for (uint32_t i = from; i < to; i++)
		put_aip(nlh, 0x0a000000u + i, unknown_type ? 50 : 0);
	mnl_attr_nest_end(nlh, l);
	mnl_attr_nest_end(nlh, p);
}

static void parse__unknown_attributes__skipped(void **state)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
	struct msgbuf mb;
	struct nlmsghdr *nlh = start_msg(&mb);
	struct nlattr *peers;
	wgnl_key k;

	(void)state;
	mnl_attr_put_u32(nlh, 200, 7); /* from some future kernel */
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg7");
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 4242);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	key_of(k, 1, 1);
	put_peer(nlh, k, 0, 3, WGPEER_A_UNSPEC);
	mnl_attr_nest_end(nlh, peers);
	mnl_attr_put_u32(nlh, 201, 8);
	assert_int_equal(wgi_genl_parse_msg(nlh, &st), 0);
	assert_string_equal(st.dev->name, "wg7");
	assert_int_equal(st.dev->listen_port, 4242);
	assert_true(st.dev->flags & WGNL_DEV_HAS_LISTEN_PORT);
	assert_false(st.dev->flags & WGNL_DEV_HAS_FWMARK);
	assert_int_equal(st.dev->n_peers, 1);
	assert_int_equal(st.dev->peers[0].n_allowedips, 3);
	assert_int_equal(st.dev->peers[0].flags, WGNL_PEER_HAS_PUBLIC_KEY);
	wgnl_device_free(st.dev);
}

static void parse__peer_split_by_hand__coalesced_in_order(void **state)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
	struct msgbuf m1, m2, m3;
	struct nlmsghdr *n1 = start_msg(&m1), *n2 = start_msg(&m2), *n3 = start_msg(&m3);
	struct nlattr *peers;
	wgnl_key x, y, z;

	(void)state;
	key_of(x, 1, 1);
	key_of(y, 2, 1);
	key_of(z, 3, 1);
	peers = mnl_attr_nest_start(n1, WGDEVICE_A_PEERS);
	put_peer(n1, x, 0, 2, 0);
	put_peer(n1, y, 10, 12, 0);
	mnl_attr_nest_end(n1, peers);
	/* y continues twice in a row, then z. */
	peers = mnl_attr_nest_start(n2, WGDEVICE_A_PEERS);
	put_peer(n2, y, 12, 14, 0);
	mnl_attr_nest_end(n2, peers);
	peers = mnl_attr_nest_start(n3, WGDEVICE_A_PEERS);
	put_peer(n3, y, 14, 15, 0);
	put_peer(n3, z, 20, 21, 0);
	mnl_attr_nest_end(n3, peers);
	assert_int_equal(wgi_genl_parse_msg(n1, &st), 0);
	assert_int_equal(wgi_genl_parse_msg(n2, &st), 0);
	assert_int_equal(wgi_genl_parse_msg(n3, &st), 0);
	assert_int_equal(st.dev->n_peers, 3);
	assert_int_equal(wgnl_device_find_peer(st.dev, x)->n_allowedips, 2);
	assert_int_equal(wgnl_device_find_peer(st.dev, y)->n_allowedips, 5);
	for (uint32_t i = 0; i < 5; i++) {
		struct wgnl_prefix want = v4(0x0a000000u + 10 + i, 32);

		assert_int_equal(wgnl_prefix_cmp(&wgnl_device_find_peer(st.dev, y)->allowedips[i],
						 &want),
				 0);
	}
	assert_int_equal(wgnl_device_find_peer(st.dev, z)->n_allowedips, 1);
	wgnl_device_free(st.dev);
}

/* Stream mode hands over every peer once, coalesced, equal to what the
 * whole parse builds (the recorded kernel dump, whose peer B is split). */
struct stream_seen {
	const struct wgnl_device *whole;
	size_t n;
	bool bad;
};

static int stream_check_cb(const struct wgnl_device *dev, const struct wgnl_peer *p, void *data)
{
	struct stream_seen *s = data;
	const struct wgnl_peer *w = wgnl_device_find_peer(s->whole, p->public_key);

	(void)dev;
	s->n++;
	if (!w || w->flags != p->flags || w->n_allowedips != p->n_allowedips ||
	    w->persistent_keepalive != p->persistent_keepalive || w->rx_bytes != p->rx_bytes ||
	    w->tx_bytes != p->tx_bytes || !wgnl_key_equal(w->preshared_key, p->preshared_key) ||
	    memcmp(&w->endpoint, &p->endpoint, sizeof(w->endpoint)))
		s->bad = true;
	for (size_t i = 0; w && !s->bad && i < p->n_allowedips; i++)
		if (wgnl_prefix_cmp(&w->allowedips[i], &p->allowedips[i]))
			s->bad = true;
	return 0;
}

static void parse__stream_mode__each_peer_once_as_whole(void **state)
{
	struct wgnl_device *whole;
	struct stream_seen seen = { 0 };
	struct wgi_genl_parse st = { .dev = wgnl_device_new(""), .cb = stream_check_cb };
	const struct nlmsghdr *m = (const struct nlmsghdr *)genl_rec_dump;
	int left = (int)genl_rec_dump_len;

	(void)state;
	assert_int_equal(parse_all(genl_rec_dump, genl_rec_dump_len, "", &whole), 0);
	seen.whole = whole;
	st.cb_data = &seen;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		struct nlmsghdr *c = exact_copy(m, m->nlmsg_len);

		assert_int_equal(wgi_genl_parse_msg(c, &st), 0);
		free(c);
	}
	assert_int_equal(st.dev->n_peers, 0);
	assert_int_equal(wgi_genl_parse_flush(&st), 0);
	assert_int_equal(seen.n, whole->n_peers);
	assert_false(seen.bad);
	assert_string_equal(st.dev->name, whole->name);
	wgi_genl_parse_release(&st);
	wgnl_device_free(st.dev);
	wgnl_device_free(whole);
}

static void parse__same_peer_not_adjacent__ebadmsg(void **state)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
	struct msgbuf m1, m2;
	struct nlmsghdr *n1 = start_msg(&m1), *n2 = start_msg(&m2);
	struct nlattr *peers;
	wgnl_key x, y;

	(void)state;
	key_of(x, 1, 1);
	key_of(y, 2, 1);
	peers = mnl_attr_nest_start(n1, WGDEVICE_A_PEERS);
	put_peer(n1, x, 0, 1, 0);
	put_peer(n1, y, 1, 2, 0);
	mnl_attr_nest_end(n1, peers);
	peers = mnl_attr_nest_start(n2, WGDEVICE_A_PEERS);
	put_peer(n2, x, 2, 3, 0); /* x is not the last peer of the previous message */
	mnl_attr_nest_end(n2, peers);
	assert_int_equal(wgi_genl_parse_msg(n1, &st), 0);
	assert_int_equal(wgi_genl_parse_msg(n2, &st), -EBADMSG);
	/* A failed state stays failed. */
	assert_int_equal(wgi_genl_parse_msg(n1, &st), -EBADMSG);
	wgnl_device_free(st.dev);
}

/* One bad attribute per message: each must be -EBADMSG. */
static void parse__invalid_attributes__ebadmsg(void **state)
{
	(void)state;
	for (int which = 0; which < 11; which++) {
		struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
		struct msgbuf mb;
		struct nlmsghdr *nlh = start_msg(&mb);
		struct nlattr *peers, *p, *l, *ip;
		uint8_t key[WGNL_KEY_LEN + 1] = { 1 };
		uint32_t addr = htonl(0x0a000001);
		uint8_t in6[16] = { 0xfd };

		switch (which) {
		case 0:
			mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, 31, key);
			break;
		case 1:
			mnl_attr_put(nlh, WGDEVICE_A_IFNAME, 3, "wg0");
			break; /* no NUL */
		case 2:
			mnl_attr_put_u32(nlh, WGDEVICE_A_LISTEN_PORT, 1);
			break;
		case 3:
			mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "a-name-far-too-long");
			break;
		default:
			break;
		}
		peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
		p = mnl_attr_nest_start(nlh, 0);
		if (which != 4)
			mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, which == 5 ? 33 : 32, key);
		if (which == 6)
			mnl_attr_put(nlh, WGPEER_A_ENDPOINT, 3, key);
		if (which == 7)
			mnl_attr_put_u32(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
		l = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		ip = mnl_attr_nest_start(nlh, 0);
		mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, which == 8 ? AF_INET6 : AF_INET);
		if (which == 9)
			mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 16, in6);
		else
			mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, &addr);
		mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, which == 10 ? 33 : 32);
		mnl_attr_nest_end(nlh, ip);
		mnl_attr_nest_end(nlh, l);
		mnl_attr_nest_end(nlh, p);
		mnl_attr_nest_end(nlh, peers);
		assert_int_equal(wgi_genl_parse_msg(nlh, &st), -EBADMSG);
		assert_int_equal(st.err, -EBADMSG);
		wgnl_device_free(st.dev);
	}
}

static void parse__nest_overruns_container__ebadmsg(void **state)
{
	struct wgi_genl_parse st = { .dev = wgnl_device_new("") };
	struct msgbuf mb;
	struct nlmsghdr *nlh = start_msg(&mb);
	struct nlattr *peers, *aips;
	struct nlattr *p;
	wgnl_key x;

	(void)state;
	key_of(x, 1, 1);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	p = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, WGNL_KEY_LEN, x);
	aips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_aip(nlh, 1, 0);
	mnl_attr_nest_end(nlh, aips);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, peers);
	aips->nla_len += 8; /* claims more than the peer holds */
	assert_int_equal(wgi_genl_parse_msg(nlh, &st), -EBADMSG);
	wgnl_device_free(st.dev);
}

/* ----------------------------------------------------------- building */

static void build__10k_peers__few_messages_nests_below_64k(void **state)
{
	struct wgnl_device *dev = make_device(10000, 3), *back;
	const struct nlmsghdr *m;
	struct built b;
	size_t biggest = 0;
	int left;
	unsigned i = 0;

	(void)state;
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	print_message("10000 peers, 3 allowed IPs each: %u messages (wg: ~%u)\n", b.msgs,
		      10000 / 33);
	assert_true(b.msgs < 10000 / 33 / 4);
	m = (const struct nlmsghdr *)b.buf;
	left = (int)b.len;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left), i++) {
		struct frag_walk *w = malloc(sizeof(*w));
		size_t big = check_nests((const uint8_t *)m + MNL_NLMSG_HDRLEN + GENL_HDRLEN,
					 m->nlmsg_len - MNL_NLMSG_HDRLEN - GENL_HDRLEN);

		if (big > biggest)
			biggest = big;
		frag_walk(m, w);
		/* Device attributes and REPLACE_PEERS in the first message only. */
		assert_int_equal(w->dev_flags, i == 0);
		assert_int_equal(w->dev_key, i == 0);
		assert_int_equal(w->dev_port, i == 0);
		assert_true(w->n > 0);
		free(w);
	}
	print_message("largest nest %zu bytes\n", biggest);
	assert_true(biggest > 60000); /* the messages are really filled */
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_same_device(dev, back);
	wgnl_device_free(back);
	wgnl_device_free(dev);
	free(b.buf);
}

static void build__peer_with_5000_allowedips__split_replace_only_first(void **state)
{
	struct wgnl_device *dev = make_device(3, 1), *back;
	struct wgnl_peer *big = &dev->peers[1];
	const struct nlmsghdr *m;
	struct built b;
	unsigned i = 0, frags = 0;
	size_t sent = 0;
	int left;

	(void)state;
	big->flags |= WGNL_PEER_UPDATE_ONLY;
	for (uint32_t j = 0; j < 5000; j++) {
		struct wgnl_prefix p = v6(100000 + j, 128);

		assert_int_equal(wgnl_peer_add_allowedip(big, &p), 0);
	}
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	assert_true(b.msgs >= 3); /* 5001 x 40 bytes of IPv6 allowed IPs */
	m = (const struct nlmsghdr *)b.buf;
	left = (int)b.len;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left), i++) {
		struct frag_walk *w = malloc(sizeof(*w));

		check_nests((const uint8_t *)m + MNL_NLMSG_HDRLEN + GENL_HDRLEN,
			    m->nlmsg_len - MNL_NLMSG_HDRLEN - GENL_HDRLEN);
		frag_walk(m, w);
		assert_int_equal(w->dev_flags, i == 0);
		for (size_t f = 0; f < w->n; f++) {
			if (memcmp(w->f[f].key, big->public_key, WGNL_KEY_LEN))
				continue;
			if (frags == 0) {
				assert_int_equal(w->f[f].flags, WGPEER_F_REPLACE_ALLOWEDIPS |
									WGPEER_F_UPDATE_ONLY);
				assert_true(w->f[f].has_psk && w->f[f].has_endpoint);
			} else {
				/* A continuation: never replaces, never creates. */
				assert_true(w->f[f].has_flags);
				assert_int_equal(w->f[f].flags, WGPEER_F_UPDATE_ONLY);
				assert_false(w->f[f].has_psk || w->f[f].has_endpoint);
				/* ...and it leads its message. */
				assert_int_equal(f, 0);
			}
			assert_true(w->f[f].n_aips > 0);
			sent += w->f[f].n_aips;
			frags++;
		}
		free(w);
	}
	assert_true(frags >= 3);
	assert_int_equal(sent, 5001);
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_same_device(dev, back);
	wgnl_device_free(back);
	wgnl_device_free(dev);
	free(b.buf);
}

static void build__empty_replace_peers__one_message(void **state)
{
	struct wgnl_device *dev = wgnl_device_new("wg0"), *back;
	struct built b;

	(void)state;
	dev->flags = WGNL_DEV_REPLACE_PEERS;
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	assert_int_equal(b.msgs, 1);
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_true(back->flags & WGNL_DEV_REPLACE_PEERS);
	assert_int_equal(back->n_peers, 0);
	wgnl_device_free(back);
	free(b.buf);
	/* Nothing at all is still one (no-op) message. */
	dev->flags = 0;
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	assert_int_equal(b.msgs, 1);
	free(b.buf);
	wgnl_device_free(dev);
}

static void build__skip_remove_and_prefix_remove__as_asked(void **state)
{
	struct wgnl_device *dev = make_device(6, 2), *back;
	struct wgnl_prefix p = v4(0x0b000000u, 8);
	struct built b;

	(void)state;
	dev->peers[0].flags |= WGNL_PEER_SKIP;
	dev->peers[2].flags |= WGNL_PEER_SKIP;
	dev->peers[5].flags |= WGNL_PEER_SKIP;
	dev->peers[3].flags = WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_REMOVE;
	p.flags = WGNL_PREFIX_REMOVE;
	assert_int_equal(wgnl_peer_add_allowedip(&dev->peers[4], &p), 0);
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	assert_int_equal(b.msgs, 1);
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_int_equal(back->n_peers, 3);
	assert_same_device(dev, back);
	assert_int_equal(back->peers[2].allowedips[2].flags, WGNL_PREFIX_REMOVE);
	wgnl_device_free(back);
	free(b.buf);
	/* Only skipped peers: one message, no peers nest. */
	for (size_t i = 0; i < dev->n_peers; i++)
		dev->peers[i].flags |= WGNL_PEER_SKIP;
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	assert_int_equal(b.msgs, 1);
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_int_equal(back->n_peers, 0);
	wgnl_device_free(back);
	free(b.buf);
	wgnl_device_free(dev);
}

/* Small buffers force a split at every level; the result must still read
 * back as the same device, and a buffer too small for anything must fail
 * rather than loop. */
static void build__small_buffers__same_device_or_emsgsize(void **state)
{
	static const size_t sizes[] = { 200, 256, 333, 512, 1000, 4096 };
	struct wgnl_device *dev = make_device(40, 9), *back;
	struct wgi_genl_set_cursor cur = { 0 };
	uint8_t small[64] __attribute__((aligned(4)));
	struct built b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		assert_int_equal(build_all(dev, sizes[i], &b), 0);
		assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
		assert_same_device(dev, back);
		wgnl_device_free(back);
		free(b.buf);
	}
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, small, sizeof(small), &cur), -EMSGSIZE);
	wgnl_device_free(dev);
}

static void build__invalid_device__einval(void **state)
{
	struct wgnl_device *dev = make_device(2, 1);
	struct wgi_genl_set_cursor cur = { 0 };
	uint8_t *buf = malloc(WGI_GENL_SET_BUF);

	(void)state;
	dev->peers[1].allowedips[0].family = AF_UNIX;
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, buf, WGI_GENL_SET_BUF, &cur), -EINVAL);
	dev->peers[1].allowedips[0].family = AF_INET;
	dev->peers[1].allowedips[0].cidr = 33;
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, buf, WGI_GENL_SET_BUF, &cur), -EINVAL);
	dev->peers[1].allowedips[0].cidr = 32;
	dev->peers[0].endpoint.addr.sa_family = AF_UNSPEC;
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, buf, WGI_GENL_SET_BUF, &cur), -EINVAL);
	dev->peers[0].flags &= ~(uint32_t)WGNL_PEER_HAS_ENDPOINT;
	dev->name[0] = '\0';
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, buf, WGI_GENL_SET_BUF, &cur), -EINVAL);
	strcpy(dev->name, "wg0");
	assert_int_equal(wgi_genl_build_set(dev, FAMILY, buf, WGI_GENL_SET_BUF, &cur), 1);
	free(buf);
	wgnl_device_free(dev);
}

/* 100k peers: build and parse stay linear (this would take minutes if the
 * parse looked peers up by scanning). */
static void build__100k_peers__round_trip(void **state)
{
	struct wgnl_device *dev = make_device(100000, 1), *back;
	struct built b;

	(void)state;
	assert_int_equal(build_all(dev, WGI_GENL_SET_BUF, &b), 0);
	print_message("100000 peers: %u messages\n", b.msgs);
	assert_int_equal(parse_all(b.buf, b.len, "", &back), 0);
	assert_same_device(dev, back);
	wgnl_device_free(back);
	wgnl_device_free(dev);
	free(b.buf);
}

/* ------------------------------------------------------------- policy */

static void policy__recorded_6_1__nested_policies_not_linked(void **state)
{
	struct wgi_genl_policy pol = { 0 };
	const struct nlmsghdr *m = (const struct nlmsghdr *)genl_rec_policy;
	int left = (int)genl_rec_policy_len;

	(void)state;
	assert_true(genl_rec_policy_msgs > 0);
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left))
		assert_int_equal(wgi_genl_policy_parse(m, &pol), 0);
	assert_true(pol.n >= 8); /* the device policy's attributes */
	/* Linux 6.1 declares WGDEVICE_A_PEERS a plain nest: cannot tell. */
	assert_int_equal(wgi_genl_policy_aip_flags(&pol), -ENOENT);
}

static void put_pol_attr(struct msgbuf *mb, uint32_t policy, uint32_t attr, uint32_t nested)
{
	struct nlmsghdr *nlh = start_msg(mb);
	struct nlattr *a, *b, *c;

	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY);
	a = mnl_attr_nest_start(nlh, CTRL_ATTR_POLICY);
	b = mnl_attr_nest_start(nlh, (uint16_t)policy);
	c = mnl_attr_nest_start(nlh, (uint16_t)attr);
	mnl_attr_put_u32(nlh, NL_POLICY_TYPE_ATTR_TYPE,
			 nested ? NL_ATTR_TYPE_NESTED_ARRAY : NL_ATTR_TYPE_U32);
	if (nested) {
		mnl_attr_put_u32(nlh, NL_POLICY_TYPE_ATTR_POLICY_IDX, nested - 1);
		mnl_attr_put_u32(nlh, NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, 10);
	}
	mnl_attr_nest_end(nlh, c);
	mnl_attr_nest_end(nlh, b);
	mnl_attr_nest_end(nlh, a);
}

static void policy__linked_policies__flags_detected(void **state)
{
	(void)state;
	for (int with_flags = 0; with_flags < 2; with_flags++) {
		struct wgi_genl_policy pol = { 0 };
		struct msgbuf mb;
		struct nlmsghdr *nlh = start_msg(&mb);
		struct nlattr *a, *b;

		/* SET_DEVICE's do policy is 3; policy 0 is a decoy. */
		mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY);
		a = mnl_attr_nest_start(nlh, CTRL_ATTR_OP_POLICY);
		b = mnl_attr_nest_start(nlh, WG_CMD_SET_DEVICE);
		mnl_attr_put_u32(nlh, CTRL_ATTR_POLICY_DO, 3);
		mnl_attr_nest_end(nlh, b);
		mnl_attr_nest_end(nlh, a);
		assert_int_equal(wgi_genl_policy_parse(nlh, &pol), 0);
		put_pol_attr(&mb, 0, WGDEVICE_A_PEERS, 0);
		assert_int_equal(wgi_genl_policy_parse((struct nlmsghdr *)mb.b, &pol), 0);
		put_pol_attr(&mb, 3, WGDEVICE_A_PEERS, 1 + 1);
		assert_int_equal(wgi_genl_policy_parse((struct nlmsghdr *)mb.b, &pol), 0);
		put_pol_attr(&mb, 1, WGPEER_A_ALLOWEDIPS, 2 + 1);
		assert_int_equal(wgi_genl_policy_parse((struct nlmsghdr *)mb.b, &pol), 0);
		for (uint32_t t = WGALLOWEDIP_A_FAMILY;
		     t <= WGALLOWEDIP_A_CIDR_MASK + (uint32_t)with_flags; t++) {
			put_pol_attr(&mb, 2, t, 0);
			assert_int_equal(wgi_genl_policy_parse((struct nlmsghdr *)mb.b, &pol), 0);
		}
		assert_int_equal(pol.set_do, 3 + 1);
		assert_int_equal(wgi_genl_policy_aip_flags(&pol), with_flags);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__recorded_dump__device_and_all_peers),
		cmocka_unit_test(parse__recorded_split_peer__coalesced_into_one),
		cmocka_unit_test(parse__recorded_truncated__ebadmsg_no_crash),
		cmocka_unit_test(parse__recorded_corrupt_lengths__no_crash),
		cmocka_unit_test(parse__unknown_attributes__skipped),
		cmocka_unit_test(parse__peer_split_by_hand__coalesced_in_order),
		cmocka_unit_test(parse__same_peer_not_adjacent__ebadmsg),
		cmocka_unit_test(parse__stream_mode__each_peer_once_as_whole),
		cmocka_unit_test(parse__invalid_attributes__ebadmsg),
		cmocka_unit_test(parse__nest_overruns_container__ebadmsg),
		cmocka_unit_test(build__10k_peers__few_messages_nests_below_64k),
		cmocka_unit_test(build__peer_with_5000_allowedips__split_replace_only_first),
		cmocka_unit_test(build__empty_replace_peers__one_message),
		cmocka_unit_test(build__skip_remove_and_prefix_remove__as_asked),
		cmocka_unit_test(build__small_buffers__same_device_or_emsgsize),
		cmocka_unit_test(build__invalid_device__einval),
		cmocka_unit_test(build__100k_peers__round_trip),
		cmocka_unit_test(policy__recorded_6_1__nested_policies_not_linked),
		cmocka_unit_test(policy__linked_policies__flags_detected),
	};

	return cmocka_run_group_tests_name("genl", tests, NULL, NULL);
}
