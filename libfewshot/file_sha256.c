/*
 * The SHA-256 of a file's bytes, read in blocks: what identifies a plugin's code in a
 * dataset's id and a dataset file in the report's reproduction record.
 */
#include "config.h"

#include <stdio.h>

#include <openssl/evp.h>

#include "internal.h"

int fewshot__file_sha256(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = f ? EVP_MD_CTX_new() : NULL;
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    size_t n;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &len) && len == 32;
    for (unsigned int i = 0; ok && i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    if (f)
        fclose(f);
    return ok;
}
