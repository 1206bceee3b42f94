/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd: libpq, loaded at run time (dl.h) by gw_pq_load() when the
 * PostgreSQL source opens or `wg-gatewayd migrate` runs. pgsource.c includes
 * this instead of <libpq-fe.h>: every PQ function it calls becomes a call
 * through gw_pq, typed as libpq-fe.h declares it.
 */
#ifndef WGK_GATEWAY_PQ_H
#define WGK_GATEWAY_PQ_H

#include <libpq-fe.h>

#include "dl.h"

#define GW_PQ_SONAME "libpq.so.5"

/* Exactly the functions the gateway calls. */
#define GW_PQ_FUNCS(X)          \
	X(PQclear)              \
	X(PQconnectPoll)        \
	X(PQconnectStartParams) \
	X(PQconnectdbParams)    \
	X(PQconninfoFree)       \
	X(PQconninfoParse)      \
	X(PQconsumeInput)       \
	X(PQerrorMessage)       \
	X(PQexec)               \
	X(PQexecParams)         \
	X(PQfinish)             \
	X(PQfreemem)            \
	X(PQgetisnull)          \
	X(PQgetvalue)           \
	X(PQnotifies)           \
	X(PQntuples)            \
	X(PQresultStatus)       \
	X(PQsetNoticeProcessor) \
	X(PQsocket)             \
	X(PQstatus)

union gw_pq {
	struct {
		GW_PQ_FUNCS(GW_DL_FIELD)
	} f;
	void *slot[0 GW_PQ_FUNCS(GW_DL_COUNT)];
};
extern union gw_pq gw_pq;

/* Load libpq.so.5 (once; later calls are no-ops). 0, or -ELIBACC with one
 * line in @err naming the library and saying what to install. */
int gw_pq_load(char *err, size_t errlen);

#define PQclear (gw_pq.f.PQclear)
#define PQconnectPoll (gw_pq.f.PQconnectPoll)
#define PQconnectStartParams (gw_pq.f.PQconnectStartParams)
#define PQconnectdbParams (gw_pq.f.PQconnectdbParams)
#define PQconninfoFree (gw_pq.f.PQconninfoFree)
#define PQconninfoParse (gw_pq.f.PQconninfoParse)
#define PQconsumeInput (gw_pq.f.PQconsumeInput)
#define PQerrorMessage (gw_pq.f.PQerrorMessage)
#define PQexec (gw_pq.f.PQexec)
#define PQexecParams (gw_pq.f.PQexecParams)
#define PQfinish (gw_pq.f.PQfinish)
#define PQfreemem (gw_pq.f.PQfreemem)
#define PQgetisnull (gw_pq.f.PQgetisnull)
#define PQgetvalue (gw_pq.f.PQgetvalue)
#define PQnotifies (gw_pq.f.PQnotifies)
#define PQntuples (gw_pq.f.PQntuples)
#define PQresultStatus (gw_pq.f.PQresultStatus)
#define PQsetNoticeProcessor (gw_pq.f.PQsetNoticeProcessor)
#define PQsocket (gw_pq.f.PQsocket)
#define PQstatus (gw_pq.f.PQstatus)

#endif
