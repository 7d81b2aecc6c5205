#ifndef NTSTAT_ALLOCATION_COUNTER_H
#define NTSTAT_ALLOCATION_COUNTER_H
#include <stdint.h>
/// Number of malloc-family calls made by this process since it started (Linux/glibc only:
/// the benchmark executable interposes malloc; elsewhere this stays 0).
uint64_t ntstat_allocation_count(void);
/// 1 when the interposer is active on this platform.
int ntstat_allocation_counting_available(void);
/// Heap bytes in use (glibc `mallinfo2`), 0 where unavailable.
uint64_t ntstat_heap_bytes_in_use(void);
#endif
