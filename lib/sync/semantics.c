// SPDX-License-Identifier: MIT
/* What a config file's absent fields mean when it is applied whole: the
 * one rule `setconf`, `up`, `syncconf` and `sync` share. */
#include <string.h>

#include "wgkit/wgnl_sync.h"

void wgnl_config_apply_semantics(struct wgnl_device *dev, enum wgnl_config_semantics sem)
{
	switch (sem) {
	case WGNL_SEM_SETCONF:
		/* Fields the parser left at zero are sent as zero. */
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT |
			      WGNL_DEV_HAS_FWMARK | WGNL_DEV_REPLACE_PEERS;
		for (size_t i = 0; i < dev->n_peers; i++)
			dev->peers[i].flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
		break;
	case WGNL_SEM_SYNCCONF:
		if (!(dev->flags & WGNL_DEV_HAS_PRIVATE_KEY))
			memset(dev->private_key, 0, WGNL_KEY_LEN);
		if (!(dev->flags & WGNL_DEV_HAS_FWMARK))
			dev->fwmark = 0;
		dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_FWMARK;
		dev->flags &= ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
		break;
	}
}
