// SPDX-License-Identifier: MIT
/* The wireguard-nt configuration blob (nt_blob.h): WIREGUARD_INTERFACE,
 * then each WIREGUARD_PEER followed by its WIREGUARD_ALLOWED_IPs, to and
 * from struct wgnl_device. Plain C over the layout of nt_api.h. */
#include <errno.h>
#include <string.h>

#include "windows/nt_api.h"
#include "windows/nt_blob.h"

/* The host's family of a driver family, 0 if neither. */
static uint16_t host_family(uint16_t nt)
{
	return nt == WGI_NT_AF_INET ? AF_INET : nt == WGI_NT_AF_INET6 ? AF_INET6 : 0;
}

static uint16_t nt_family(uint16_t host)
{
	return host == AF_INET ? WGI_NT_AF_INET : WGI_NT_AF_INET6;
}

static void nt_to_timespec(DWORD64 t, struct timespec *ts)
{
	if (t <= WGI_NT_EPOCH_DIFF) {
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
		return;
	}
	t -= WGI_NT_EPOCH_DIFF;
	ts->tv_sec = (time_t)(t / 10000000ULL);
	ts->tv_nsec = (long)(t % 10000000ULL) * 100;
}

static int nt_parse_ip(struct wgnl_ctx *ctx, const WIREGUARD_ALLOWED_IP *a, struct wgnl_peer *peer)
{
	struct wgnl_prefix p = { .family = host_family(a->AddressFamily), .cidr = a->Cidr };

	if (p.family == AF_INET && a->Cidr <= 32) {
		memcpy(&p.ip4, &a->Address.V4, sizeof(p.ip4));
	} else if (p.family == AF_INET6 && a->Cidr <= 128) {
		memcpy(&p.ip6, &a->Address.V6, sizeof(p.ip6));
	} else {
		wgi_set_error(ctx, "wireguard.dll returned an allowed IP of family %u, cidr %u",
			      a->AddressFamily, a->Cidr);
		return -EBADMSG;
	}
	return wgnl_peer_add_allowedip(peer, &p);
}

static int nt_parse_peer(struct wgnl_ctx *ctx, const WIREGUARD_PEER *src, struct wgnl_device *dev)
{
	struct wgnl_peer *peer;
	int r = wgnl_device_add_peer(dev, src->PublicKey, &peer);

	if (r < 0)
		return r == -EEXIST ? -EBADMSG : r;
	if (src->Flags & WIREGUARD_PEER_HAS_PRESHARED_KEY) {
		memcpy(peer->preshared_key, src->PresharedKey, WGNL_KEY_LEN);
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	}
	if (src->Flags & WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE) {
		peer->persistent_keepalive = src->PersistentKeepalive;
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
	}
	if (src->Flags & WIREGUARD_PEER_HAS_ENDPOINT) {
		uint16_t fam = host_family(src->Endpoint.si_family);

		if (fam == AF_INET)
			memcpy(&peer->endpoint.addr4, &src->Endpoint.Ipv4, sizeof(SOCKADDR_IN));
		else if (fam == AF_INET6)
			memcpy(&peer->endpoint.addr6, &src->Endpoint.Ipv6, sizeof(SOCKADDR_IN6));
		else
			return -EBADMSG;
		peer->endpoint.addr.sa_family = fam;
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
	}
	peer->rx_bytes = src->RxBytes;
	peer->tx_bytes = src->TxBytes;
	nt_to_timespec(src->LastHandshake, &peer->last_handshake);
	/* The driver speaks protocol version 1, the only one there is. */
	peer->protocol_version = 1;
	peer->flags |= WGNL_PEER_HAS_RX_TX | WGNL_PEER_HAS_LAST_HANDSHAKE |
		       WGNL_PEER_HAS_PROTOCOL_VERSION;
	return 0;
}

int wgi_nt_blob_parse(struct wgnl_ctx *ctx, const uint8_t *b, size_t bytes, struct wgnl_device *dev)
{
	const WIREGUARD_INTERFACE *iface = (const void *)b;
	size_t off = sizeof(*iface);
	int r;

	if (bytes < sizeof(*iface))
		goto short_blob;
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_PRIVATE_KEY) {
		memcpy(dev->private_key, iface->PrivateKey, WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
	}
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_PUBLIC_KEY) {
		memcpy(dev->public_key, iface->PublicKey, WGNL_KEY_LEN);
		dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	}
	if (iface->Flags & WIREGUARD_INTERFACE_HAS_LISTEN_PORT) {
		dev->listen_port = iface->ListenPort;
		dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	}
	/* A count the blob cannot hold is refused before anything is
	 * reserved for it. */
	if (iface->PeersCount > (bytes - off) / sizeof(WIREGUARD_PEER))
		goto short_blob;
	r = wgnl_device_reserve(dev, iface->PeersCount);
	if (r < 0)
		return r;
	for (DWORD i = 0; i < iface->PeersCount; i++) {
		const WIREGUARD_PEER *p = (const void *)(b + off);
		const WIREGUARD_ALLOWED_IP *ips;

		if (bytes - off < sizeof(*p))
			goto short_blob;
		r = nt_parse_peer(ctx, p, dev);
		if (r == -EBADMSG)
			wgi_set_error(ctx, "wireguard.dll returned a bad peer #%lu",
				      (unsigned long)i);
		if (r < 0)
			return r;
		off += sizeof(*p);
		ips = (const void *)(b + off);
		if ((bytes - off) / sizeof(*ips) < p->AllowedIPsCount)
			goto short_blob;
		for (DWORD j = 0; j < p->AllowedIPsCount; j++) {
			r = nt_parse_ip(ctx, &ips[j], &dev->peers[dev->n_peers - 1]);
			if (r < 0)
				return r;
		}
		off += (size_t)p->AllowedIPsCount * sizeof(*ips);
	}
	return 0;
short_blob:
	wgi_set_error(ctx, "wireguard.dll returned %lu bytes, fewer than its counts need",
		      (unsigned long)bytes);
	return -EBADMSG;
}

static bool nt_sends(const struct wgnl_peer *p)
{
	return !(p->flags & WGNL_PEER_SKIP);
}

/* Refuse what the driver cannot do before anything is sent. */
int wgi_nt_blob_size(struct wgnl_ctx *ctx, const struct wgnl_device *dev, size_t *bytes)
{
	wgnl_key_b64 key;
	size_t n = sizeof(WIREGUARD_INTERFACE);

	if ((dev->flags & WGNL_DEV_HAS_FWMARK) && dev->fwmark) {
		wgi_set_error(ctx,
			      "FwMark is not supported by wireguard-nt (Windows has no "
			      "firewall marks); remove FwMark = 0x%x",
			      dev->fwmark);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		if (!nt_sends(p))
			continue;
		n += sizeof(WIREGUARD_PEER);
		if (p->flags & WGNL_PEER_REMOVE)
			continue;
		wgnl_key_to_base64(key, p->public_key);
		if ((p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family != AF_INET &&
		    p->endpoint.addr.sa_family != AF_INET6) {
			wgi_set_error(ctx, "peer %s: endpoint has no address", key);
			return -EINVAL;
		}
		for (size_t j = 0; j < p->n_allowedips; j++) {
			const struct wgnl_prefix *a = &p->allowedips[j];

			if (a->flags & WGNL_PREFIX_REMOVE) {
				wgi_set_error(ctx,
					      "peer %s: wireguard-nt cannot remove one allowed "
					      "IP; replace the list instead",
					      key);
				return -EOPNOTSUPP;
			}
			if (!((a->family == AF_INET && a->cidr <= 32) ||
			      (a->family == AF_INET6 && a->cidr <= 128))) {
				wgi_set_error(ctx,
					      "peer %s: allowed IP #%lu has a bad family or "
					      "prefix length",
					      key, (unsigned long)j + 1);
				return -EINVAL;
			}
		}
		n += p->n_allowedips * sizeof(WIREGUARD_ALLOWED_IP);
	}
	if (n > UINT32_MAX) {
		wgi_set_error(ctx, "the configuration of '%s' needs over 4 GiB", dev->name);
		return -E2BIG;
	}
	*bytes = n;
	return 0;
}

static uint8_t *nt_put_peer(const struct wgnl_peer *p, WIREGUARD_PEER *out)
{
	WIREGUARD_ALLOWED_IP *ip = (WIREGUARD_ALLOWED_IP *)(out + 1);

	out->Flags = WIREGUARD_PEER_HAS_PUBLIC_KEY;
	memcpy(out->PublicKey, p->public_key, WGNL_KEY_LEN);
	if (p->flags & WGNL_PEER_REMOVE) {
		out->Flags |= WIREGUARD_PEER_REMOVE;
		return (uint8_t *)ip;
	}
	if (p->flags & WGNL_PEER_UPDATE_ONLY)
		out->Flags |= WIREGUARD_PEER_UPDATE;
	if (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS)
		out->Flags |= WIREGUARD_PEER_REPLACE_ALLOWED_IPS;
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY) {
		out->Flags |= WIREGUARD_PEER_HAS_PRESHARED_KEY;
		memcpy(out->PresharedKey, p->preshared_key, WGNL_KEY_LEN);
	}
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE) {
		out->Flags |= WIREGUARD_PEER_HAS_PERSISTENT_KEEPALIVE;
		out->PersistentKeepalive = p->persistent_keepalive;
	}
	if (p->flags & WGNL_PEER_HAS_ENDPOINT) {
		out->Flags |= WIREGUARD_PEER_HAS_ENDPOINT;
		if (p->endpoint.addr.sa_family == AF_INET)
			memcpy(&out->Endpoint.Ipv4, &p->endpoint.addr4, sizeof(SOCKADDR_IN));
		else
			memcpy(&out->Endpoint.Ipv6, &p->endpoint.addr6, sizeof(SOCKADDR_IN6));
		out->Endpoint.si_family = nt_family(p->endpoint.addr.sa_family);
	}
	out->AllowedIPsCount = (DWORD)p->n_allowedips;
	for (size_t j = 0; j < p->n_allowedips; j++, ip++) {
		const struct wgnl_prefix *a = &p->allowedips[j];

		ip->AddressFamily = nt_family(a->family);
		ip->Cidr = a->cidr;
		if (a->family == AF_INET)
			memcpy(&ip->Address.V4, &a->ip4, sizeof(a->ip4));
		else
			memcpy(&ip->Address.V6, &a->ip6, sizeof(a->ip6));
	}
	return (uint8_t *)ip;
}

void wgi_nt_blob_build(const struct wgnl_device *dev, uint8_t *buf)
{
	WIREGUARD_INTERFACE *iface = (WIREGUARD_INTERFACE *)buf;
	uint8_t *at = buf + sizeof(*iface);

	if (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) {
		iface->Flags |= WIREGUARD_INTERFACE_HAS_PRIVATE_KEY;
		memcpy(iface->PrivateKey, dev->private_key, WGNL_KEY_LEN);
	}
	if (dev->flags & WGNL_DEV_HAS_LISTEN_PORT) {
		iface->Flags |= WIREGUARD_INTERFACE_HAS_LISTEN_PORT;
		iface->ListenPort = dev->listen_port;
	}
	if (dev->flags & WGNL_DEV_REPLACE_PEERS)
		iface->Flags |= WIREGUARD_INTERFACE_REPLACE_PEERS;
	for (size_t i = 0; i < dev->n_peers; i++) {
		if (!nt_sends(&dev->peers[i]))
			continue;
		at = nt_put_peer(&dev->peers[i], (WIREGUARD_PEER *)at);
		iface->PeersCount++;
	}
}
