/* SPDX-License-Identifier: MIT */
#ifndef STANDIN_X25519_H
#define STANDIN_X25519_H
#include <stdint.h>
/* The X25519 public key of @priv (clamped here), as wg pubkey prints it. */
void standin_x25519_public(uint8_t pub[32], const uint8_t priv[32]);
#endif
