// Debian: libzstd-dev; Homebrew: zstd. Located through pkg-config (libzstd).
#include <zstd.h>
#include <zstd_errors.h>
