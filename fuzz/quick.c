/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the wg-quick extensions of the config parser
 * (Address, DNS, MTU, Table, hooks, SaveConfig): parse -> write -> parse
 * round trip with WGNL_CONFIG_QUICK, see conf_roundtrip.h. */
#include "conf_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return conf_roundtrip_one(data, size, WGNL_CONFIG_QUICK);
}
