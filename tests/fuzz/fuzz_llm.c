/*
 * libFuzzer target: what an LLM server sends back. The first byte chooses the endpoint and
 * whether the rest is a JSON reply body or a server-sent-events stream (fed in pieces whose
 * sizes come from the input, so events split anywhere).
 */
#include "fuzz_common.h"

#include "fewshot/error.h"
#include "llm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int endpoint = data[0] & 3;     /* chat, completion, embedding, models */
    int stream = (data[0] >> 2) & 1 && endpoint <= FEWSHOT_LLM_COMPLETION;
    size_t piece = (size_t)data[1] % 17 + 1;
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    llm_req q;
    memset(&q, 0, sizeof q);
    q.endpoint = endpoint;
    q.model = "m";
    json_t *doc = NULL;
    const char *why = NULL;
    if (stream) {
        llm_stream s;
        llm_stream_init(&s, endpoint);
        int rc = 0;
        for (size_t at = 0; at < len && rc == 0; at += piece)
            rc = llm_stream_feed(&s, body + at, len - at < piece ? len - at : piece);
        if (rc == 0)
            doc = llm_stream_result(&s, &why);
        llm_stream_free(&s);
    } else {
        doc = json_loadb(body, len, 0, NULL);
        char *msg = llm_server_message(body, len);   /* what an error reply would show */
        free(msg);
    }
    if (doc) {
        fewshot_llm_reply *r = llm_reply_new(&q);
        if (llm_reply_read(NULL, r, doc, &why) == 0) {   /* takes doc */
            /* counts are bounded, so sums stay far from overflow */
            if (r->usage.prompt_tokens > 1000000000u || r->usage.completion_tokens > 1000000000u)
                abort();
            (void)fewshot_llm_reply_choice(r, 0);
            float v[8];
            size_t dim;
            fewshot_llm_reply_embedding(r, 0, v, 8, &dim);
        }
        fewshot_llm_reply_free(r);
    }
    return 0;
}
