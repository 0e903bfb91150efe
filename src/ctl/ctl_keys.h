/*
 * ternctl genkey / pubkey: a router's static X25519 key pair, as `wg genkey` and
 * `wg pubkey` do it: base64 of the 32 raw bytes, one per line. The private key comes
 * from OpenSSL's RAND_priv_bytes(); X25519 clamps it when it is used. Keys are
 * cleansed from memory after use and never printed anywhere but standard output.
 *
 * Threads: any; no shared state.
 */
#ifndef TERN_CTL_KEYS_H
#define TERN_CTL_KEYS_H

#include <stdio.h>

/*
 * Writes a new private key to out. Warns on err when out is a file that others may
 * read (umask 077 first). Returns a ternctl exit status.
 */
int ctl_keys_genkey(FILE *out, FILE *err);
/* Reads a private key (base64, one line) from in and writes its public key to out. */
int ctl_keys_pubkey(FILE *in, FILE *out, FILE *err);

#endif
