// The TPM plugin: not written yet.
