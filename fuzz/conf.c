/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the WireGuard config parser (wg setconf format):
 * parse -> write -> parse round trip, see conf_roundtrip.h. */
#include "conf_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return conf_roundtrip_one(data, size, 0);
}
