/* The ABI is header-only; SwiftPM wants one C file per C target. */
