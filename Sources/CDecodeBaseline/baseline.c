// Fixed-offset reads of ntstat messages, the yardstick for the Swift decoder's speed.
// Offsets: docs/protocol.md and Tests/NtstatWireTests/Fixtures/layouts (compiled headers).
#include "CDecodeBaseline.h"
#include <string.h>

static inline uint64_t u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

typedef struct {
  uint64_t rxpackets, rxbytes, txpackets, txbytes, cell_rx, cell_tx, wifi_rx, wifi_tx, wired_rx, wired_tx;
  uint32_t dup, ooo, retx, attempts, successes, min_rtt, avg_rtt, var_rtt;
} counts_t;

typedef struct {
  uint64_t upid, eupid, start, ts;
  uint32_t ifindex, state, pid, epid, props;
  uint8_t local[28], remote[28];
  char pname[64];
  uint8_t uuid[16];
} tcp_t;

static uint64_t fold_counts(const counts_t *c) {
  return c->rxpackets + c->rxbytes + c->txpackets + c->txbytes + c->cell_rx + c->cell_tx + c->wifi_rx + c->wifi_tx +
         c->wired_rx + c->wired_tx + c->dup + c->ooo + c->retx + c->attempts + c->successes + c->min_rtt +
         c->avg_rtt + c->var_rtt;
}

static uint64_t fold_tcp(const tcp_t *t) {
  return t->upid + t->eupid + t->start + t->ts + t->ifindex + t->state + t->pid + t->epid + t->props + t->local[2] +
         t->remote[3] + (uint8_t)t->pname[0] + t->uuid[15];
}

// xnu-11215: counts at 32 within SRC_COUNTS (all u64 first), descriptor at 40 (SRC_DESC) or 152 (SRC_UPDATE).
static void counts_11215(const uint8_t *p, counts_t *c) {
  c->rxpackets = u64(p); c->rxbytes = u64(p + 8); c->txpackets = u64(p + 16); c->txbytes = u64(p + 24);
  c->cell_rx = u64(p + 32); c->cell_tx = u64(p + 40); c->wifi_rx = u64(p + 48); c->wifi_tx = u64(p + 56);
  c->wired_rx = u64(p + 64); c->wired_tx = u64(p + 72); c->dup = u32(p + 80); c->ooo = u32(p + 84);
  c->retx = u32(p + 88); c->attempts = u32(p + 92); c->successes = u32(p + 96); c->min_rtt = u32(p + 100);
  c->avg_rtt = u32(p + 104); c->var_rtt = u32(p + 108);
}

static void tcp_11215(const uint8_t *p, tcp_t *t) {
  t->upid = u64(p); t->eupid = u64(p + 8); t->start = u64(p + 16); t->ts = u64(p + 24);
  t->ifindex = u32(p + 72); t->state = u32(p + 76); t->pid = u32(p + 116); t->epid = u32(p + 120);
  memcpy(t->local, p + 124, 28); memcpy(t->remote, p + 152, 28); memcpy(t->pname, p + 196, 64);
  memcpy(t->uuid, p + 260, 16); t->props = u32(p + 336);
}

uint64_t ntstat_baseline_decode_xnu11215(const uint8_t *d, const size_t *lengths, size_t count, size_t *messages) {
  uint64_t sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = lengths[i], off = 0;
    while (off + 16 <= len) {
      const uint8_t *m = d + off;
      uint32_t type = u32(m + 8);
      uint16_t mlen = u16(m + 12);
      if (mlen < 16 || off + mlen > len) break;
      counts_t c; tcp_t t;
      uint64_t ctx = u64(m);
      switch (type) {
        case 10004: counts_11215(m + 32, &c); sum += ctx + u64(m + 16) + u64(m + 24) + fold_counts(&c); break;
        case 10003: tcp_11215(m + 40, &t); sum += ctx + u64(m + 16) + u32(m + 32) + fold_tcp(&t); break;
        case 10006: counts_11215(m + 32, &c); tcp_11215(m + 152, &t);
          sum += ctx + u64(m + 16) + u32(m + 144) + fold_counts(&c) + fold_tcp(&t); break;
        default: sum += ctx + type; break;
      }
      n++;
      off += mlen;
    }
    d += len;
  }
  *messages = n;
  return sum;
}

// xnu-2422: one message per datagram, pad instead of length; counts at 20 (u64s then u32s then cell/wifi).
static void counts_2422(const uint8_t *p, counts_t *c) {
  c->rxpackets = u64(p); c->rxbytes = u64(p + 8); c->txpackets = u64(p + 16); c->txbytes = u64(p + 24);
  c->dup = u32(p + 32); c->ooo = u32(p + 36); c->retx = u32(p + 40); c->attempts = u32(p + 44);
  c->successes = u32(p + 48); c->min_rtt = u32(p + 52); c->avg_rtt = u32(p + 56); c->var_rtt = u32(p + 60);
  c->cell_rx = u64(p + 64); c->cell_tx = u64(p + 72); c->wifi_rx = u64(p + 80); c->wifi_tx = u64(p + 88);
  c->wired_rx = 0; c->wired_tx = 0;
}

static void tcp_2422(const uint8_t *p, tcp_t *t) {
  memcpy(t->local, p, 28); memcpy(t->remote, p + 28, 28); t->ifindex = u32(p + 56); t->state = u32(p + 60);
  t->upid = u64(p + 96); t->pid = u32(p + 104); memcpy(t->pname, p + 108, 64); t->eupid = u64(p + 172);
  t->epid = u32(p + 180); memcpy(t->uuid, p + 184, 16); t->start = 0; t->ts = 0; t->props = 0;
}

uint64_t ntstat_baseline_decode_xnu2422(const uint8_t *d, const size_t *lengths, size_t count, size_t *messages) {
  uint64_t sum = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *m = d;
    size_t len = lengths[i];
    counts_t c; tcp_t t;
    uint32_t type = u32(m + 8);
    uint64_t ctx = u64(m);
    if (type == 10004 && len >= 116) { counts_2422(m + 20, &c); sum += ctx + u32(m + 16) + fold_counts(&c); }
    else if (type == 10003 && len >= 24 + 216) { tcp_2422(m + 24, &t); sum += ctx + u32(m + 16) + u32(m + 20) + fold_tcp(&t); }
    else sum += ctx + type;
    d += len;
  }
  *messages = count;
  return sum;
}
