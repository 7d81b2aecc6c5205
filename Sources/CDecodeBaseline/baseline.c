int ntstat_baseline_placeholder(void) { return 0; }
