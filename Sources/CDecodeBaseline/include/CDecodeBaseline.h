#ifndef NTSTAT_DECODE_BASELINE_H
#define NTSTAT_DECODE_BASELINE_H
#include <stddef.h>
#include <stdint.h>

/// The C baseline of the decode benchmark: reads the same fields as the Swift decoder from the
/// same datagrams, with memcpy at offsets fixed at compile time for one family, and no bounds
/// checks beyond the message length. Returns a checksum of the fields read, so that nothing is
/// optimised away; `messages` receives the number of messages read.
uint64_t ntstat_baseline_decode_xnu11215(const uint8_t *datagrams, const size_t *lengths, size_t count,
                                         size_t *messages);
uint64_t ntstat_baseline_decode_xnu2422(const uint8_t *datagrams, const size_t *lengths, size_t count,
                                        size_t *messages);
#endif
