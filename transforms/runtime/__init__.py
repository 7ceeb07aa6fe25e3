"""Process tweaks that make newsbeam faster without changing what it computes: the cyclic GC
paused while long-lived data loads (``gcpause``) and glibc malloc thresholds (``malloc``)."""
