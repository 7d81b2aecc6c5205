int ntstat_baseline_placeholder(void);
