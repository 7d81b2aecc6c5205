// Debian: libzstd-dev; Homebrew: zstd. Located through pkg-config (libzstd).
// The experimental half of zstd.h too, for ZSTD_d_stableOutBuffer (zstd 1.4.4 and later): a
// library without it answers the parameter with an error, and the reader then decodes as it
// would otherwise (CaptureStreamReader).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

// ZSTD_d_stableOutBuffer is a macro naming another constant, which Swift does not import.
static inline ZSTD_dParameter ntstat_zstd_stable_output_parameter(void) { return ZSTD_d_stableOutBuffer; }
