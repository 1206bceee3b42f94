/* SPDX-License-Identifier: MIT */
/* Bytes recorded from a real kernel (Debian's 6.1 under qemu) by
 * tests/tools/genl_record, run by tests/tools/genl_guest.sh:
 *   tests/kernel/vm.sh tests/tools/genl_guest.sh \
 *       build/tests/tools/genl_record build/tests/tools/genl_bench
 * then the lines between GENLREC-BEGIN and GENLREC-END of the serial log,
 * without their "GENLREC " prefix, are genl_fixtures.c.
 *
 * The recorded device "wgrec" (keys are throw-away test keys):
 *   private key GENL_REC_PRIV, listen port 51820, fwmark 0x1234
 *   peer GENL_REC_PEER_A: preshared key GENL_REC_PSK_A, endpoint
 *       192.0.2.1:51821, keepalive 25, 10.0.0.1/32 and fd00::1/128
 *   peer GENL_REC_PEER_B: endpoint [2001:db8::1]:51822, 300 allowed IPs
 *       10.1.0.0/32 ... 10.1.1.43/32 (the kernel splits them across
 *       messages: the dump was read with a 4 KiB buffer)
 *   peer GENL_REC_PEER_C: 10.2.0.0/16 */
#ifndef GENL_FIXTURES_H
#define GENL_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#define GENL_REC_PRIV "kCT0X3gKmbf8/pTIqoZ+lormS70lpulyGfUdmogDEE8="
#define GENL_REC_PUB "y8DkvEXT0nRIhe2OKW9XVRxT/Bvd0RWfopwG3UWXeww="
#define GENL_REC_PEER_A "AvN7qNulXxdku7bdEQPRotCUvloq8GRoZ++RSc5trUw="
#define GENL_REC_PSK_A "CtBort4qWYqpr9PeVi4IPOt9zbQ8AIhAQVqoHyDp6jI="
#define GENL_REC_PEER_B "YZPMFVwWn3bwRzjAcSJcwBNBn0hcCHciFeKtaqCn90E="
#define GENL_REC_PEER_C "06TL5EXfClYabZA5jSPvEfsut2X1BQutM0KmUsUf6HA="
#define GENL_REC_PEER_B_AIPS 300

extern const char genl_rec_kernel[];
extern const uint16_t genl_rec_family;

/* WG_CMD_GET_DEVICE dump of wgrec: genl_rec_dump_msgs messages, each
 * 4-aligned, back to back. */
extern const uint8_t genl_rec_dump[];
extern const size_t genl_rec_dump_len;
extern const unsigned genl_rec_dump_msgs;

/* CTRL_CMD_GETPOLICY dump of the wireguard family. */
extern const uint8_t genl_rec_policy[];
extern const size_t genl_rec_policy_len;
extern const unsigned genl_rec_policy_msgs;

#endif
