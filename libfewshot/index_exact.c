/*
 * Exact k-nearest-neighbour search in plain C over a flat copy of an index's vectors. FAISS's
 * flat search pays a fixed cost per call (its result handlers, OpenMP dispatch) that is most
 * of a 100k x 16 query; a blocked loop is faster there (issue 16), and for a batch of queries
 * (several episodes asking at once) each block of points is read once for all of them.
 *
 * The search runs over panels of eight points (index.c keeps its copy so), eight distances
 * in the lanes of one vector.
 *
 * Ties keep the lower label first, as FAISS's flat search does; results (-1 labels, FLT_MAX
 * distances when n < k) have FAISS's shape.
 */
#include "config.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "retrieval_internal.h"

#define BLOCK 512           /* points per block: 512 x 16 floats = 32 KB, within L1/L2 */
#define QUERY_BLOCK 16      /* queries sharing one pass over a block */

static inline float l2sq(const float *a, const float *b, size_t d)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        float e0 = a[t] - b[t], e1 = a[t + 1] - b[t + 1];
        float e2 = a[t + 2] - b[t + 2], e3 = a[t + 3] - b[t + 3];
        s0 += e0 * e0, s1 += e1 * e1, s2 += e2 * e2, s3 += e3 * e3;
    }
    for (; t < d; t++) {
        float e = a[t] - b[t];
        s0 += e * e;
    }
    return (s0 + s1) + (s2 + s3);
}

static inline float dot(const float *a, const float *b, size_t d)
{
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t t = 0;
    for (; t + 4 <= d; t += 4) {
        s0 += a[t] * b[t], s1 += a[t + 1] * b[t + 1];
        s2 += a[t + 2] * b[t + 2], s3 += a[t + 3] * b[t + 3];
    }
    for (; t < d; t++)
        s0 += a[t] * b[t];
    return (s0 + s1) + (s2 + s3);
}

/* Insert (score, label) into a sorted top-k list; better = smaller for L2, larger for IP.
 * Scores are kept negated for IP so one comparison serves both. */
static inline void push(float *best, int64_t *lab, size_t k, float s, int64_t label)
{
    if (!(s < best[k - 1]))
        return;
    size_t p = k - 1;
    while (p > 0 && best[p - 1] > s) {
        best[p] = best[p - 1];
        lab[p] = lab[p - 1];
        p--;
    }
    best[p] = s;
    lab[p] = label;
}

int fewshot__exact_search(const float *x, size_t n, size_t d, int ip, size_t nq,
                          const float *q, size_t k, float *dist, int64_t *labels)
{
    for (size_t i = 0; i < nq * k; i++)
        dist[i] = FLT_MAX, labels[i] = -1;
    for (size_t q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
        size_t q1 = q0 + QUERY_BLOCK < nq ? q0 + QUERY_BLOCK : nq;
        for (size_t b = 0; b < n; b += BLOCK) {
            size_t e = b + BLOCK < n ? b + BLOCK : n;
            for (size_t j = q0; j < q1; j++) {
                const float *qj = q + j * d;
                float *best = dist + j * k;
                int64_t *lab = labels + j * k;
                if (ip) {
                    for (size_t i = b; i < e; i++)
                        push(best, lab, k, -dot(x + i * d, qj, d), (int64_t)i);
                } else {
                    for (size_t i = b; i < e; i++)
                        push(best, lab, k, l2sq(x + i * d, qj, d), (int64_t)i);
                }
            }
        }
    }
    if (ip)
        for (size_t i = 0; i < nq * k; i++)
            dist[i] = labels[i] < 0 ? -FLT_MAX : -dist[i];
    return 0;
}

/* Eight points at once, in the lanes of one vector: each lane does l2sq's (or dot's) float
 * operations in its order, so a lane's distance equals the row-major loop's bit for bit. */
typedef float v8f __attribute__((vector_size(FEWSHOT__PANEL * sizeof(float))));
typedef int32_t v8i __attribute__((vector_size(FEWSHOT__PANEL * sizeof(int32_t))));

/* a panel row as a vector (a macro: a function returning a vector would change the ABI) */
#define lanes(p) ({ v8f v_; memcpy(&v_, (p), sizeof v_); v_; })

/* The eight scores of one panel into out (no vector crosses a call: the ABI stays SSE's). */
static inline __attribute__((always_inline)) void panel_scores(const float *panel,
                                                               const float *q, size_t d, int ip,
                                                               float *out)
{
    v8f r;
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t t = 0;
    if (ip) {
        for (; t + 4 <= d; t += 4) {
            s0 += lanes(panel + t * FEWSHOT__PANEL) * q[t];
            s1 += lanes(panel + (t + 1) * FEWSHOT__PANEL) * q[t + 1];
            s2 += lanes(panel + (t + 2) * FEWSHOT__PANEL) * q[t + 2];
            s3 += lanes(panel + (t + 3) * FEWSHOT__PANEL) * q[t + 3];
        }
        for (; t < d; t++)
            s0 += lanes(panel + t * FEWSHOT__PANEL) * q[t];
        r = -((s0 + s1) + (s2 + s3));
        memcpy(out, &r, sizeof r);
        return;
    }
    for (; t + 4 <= d; t += 4) {
        v8f e0 = lanes(panel + t * FEWSHOT__PANEL) - q[t];
        v8f e1 = lanes(panel + (t + 1) * FEWSHOT__PANEL) - q[t + 1];
        v8f e2 = lanes(panel + (t + 2) * FEWSHOT__PANEL) - q[t + 2];
        v8f e3 = lanes(panel + (t + 3) * FEWSHOT__PANEL) - q[t + 3];
        s0 += e0 * e0, s1 += e1 * e1, s2 += e2 * e2, s3 += e3 * e3;
    }
    for (; t < d; t++) {
        v8f e = lanes(panel + t * FEWSHOT__PANEL) - q[t];
        s0 += e * e;
    }
    r = (s0 + s1) + (s2 + s3);
    memcpy(out, &r, sizeof r);
}

/* The panel search keeps each query's k best in a max-heap by (score, label), label -1 (a
 * free place) above all: a point enters when its score is below the worst kept, as with the
 * sorted list push() keeps, and replaces the worst, the latest label of the worst score, as
 * push() drops the list's last; sorted at the end, the k are push()'s list. */
static inline __attribute__((always_inline)) int above(float as, int64_t al, float bs,
                                                       int64_t bl)
{
    return as > bs || (as == bs && (uint64_t)al > (uint64_t)bl);
}

static inline __attribute__((always_inline)) void heap_push(float *best, int64_t *lab,
                                                            size_t k, float s, int64_t label)
{
    if (!(s < best[0]))
        return;
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= k)
            break;
        if (c + 1 < k && above(best[c + 1], lab[c + 1], best[c], lab[c]))
            c++;
        if (!above(best[c], lab[c], s, label))
            break;
        best[i] = best[c];
        lab[i] = lab[c];
        i = c;
    }
    best[i] = s;
    lab[i] = label;
}

static void heap_sort_out(float *best, int64_t *lab, size_t k)
{
    for (size_t i = 1; i < k; i++) {
        float s = best[i];
        int64_t l = lab[i];
        size_t j = i;
        for (; j > 0 && above(best[j - 1], lab[j - 1], s, l); j--) {
            best[j] = best[j - 1];
            lab[j] = lab[j - 1];
        }
        best[j] = s;
        lab[j] = l;
    }
}

static inline __attribute__((always_inline)) void
search_panels(const float *x, size_t n, size_t d, int ip, size_t nq, const float *q, size_t k,
              float *dist, int64_t *labels)
{
    size_t stride = d * FEWSHOT__PANEL;
    for (size_t q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
        size_t q1 = q0 + QUERY_BLOCK < nq ? q0 + QUERY_BLOCK : nq;
        for (size_t b = 0; b < n; b += BLOCK) {     /* BLOCK is a multiple of the panel */
            size_t e = b + BLOCK < n ? b + BLOCK : n;
            for (size_t j = q0; j < q1; j++) {
                const float *qj = q + j * d;
                float *best = dist + j * k;
                int64_t *lab = labels + j * k;
                for (size_t i = b; i < e; i += FEWSHOT__PANEL) {
                    float s[FEWSHOT__PANEL];
                    panel_scores(x + (i / FEWSHOT__PANEL) * stride, qj, d, ip, s);
                    /* the worst kept only falls: no lane below it now, none enters */
                    v8i below = lanes(s) < best[0];
                    uint64_t any[FEWSHOT__PANEL / 2];
                    memcpy(any, &below, sizeof any);
                    if (!(any[0] | any[1] | any[2] | any[3]))
                        continue;
                    size_t m = e - i < FEWSHOT__PANEL ? e - i : FEWSHOT__PANEL;
                    for (size_t l = 0; l < m; l++)
                        heap_push(best, lab, k, s[l], (int64_t)(i + l));
                }
            }
        }
    }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_AVX2_LOOP 1
/* The same loop with AVX2's 256-bit lanes where the processor has them: the same float
 * operations (AVX2 brings no fused multiply-add), so the same scores. */
__attribute__((target("avx2"))) static void
search_panels_avx2(const float *x, size_t n, size_t d, int ip, size_t nq, const float *q,
                   size_t k, float *dist, int64_t *labels)
{
    search_panels(x, n, d, ip, nq, q, k, dist, labels);
}
#endif

/* The baseline ISA's loop (SSE2 on x86-64). */
static void search_panels_sse(const float *x, size_t n, size_t d, int ip, size_t nq,
                              const float *q, size_t k, float *dist, int64_t *labels)
{
    search_panels(x, n, d, ip, nq, q, k, dist, labels);
}

int fewshot__exact_no_avx2;

int fewshot__exact_search_panels(const float *x, size_t n, size_t d, int ip, size_t nq,
                                 const float *q, size_t k, float *dist, int64_t *labels)
{
    for (size_t i = 0; i < nq * k; i++)
        dist[i] = FLT_MAX, labels[i] = -1;
#ifdef HAVE_AVX2_LOOP
    if (!fewshot__exact_no_avx2 && __builtin_cpu_supports("avx2"))
        search_panels_avx2(x, n, d, ip, nq, q, k, dist, labels);
    else
#endif
        search_panels_sse(x, n, d, ip, nq, q, k, dist, labels);
    for (size_t j = 0; j < nq; j++)
        heap_sort_out(dist + j * k, labels + j * k, k);
    if (ip)
        for (size_t i = 0; i < nq * k; i++)
            dist[i] = labels[i] < 0 ? -FLT_MAX : -dist[i];
    return 0;
}
