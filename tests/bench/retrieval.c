/*
 * Retrieval benchmark: k-nearest-neighbour queries over n random points of dimension d, with a
 * plain C brute-force loop as the baseline timed in the same run; FAISS exact (Flat) search
 * one query at a time (latency) and in one batch (throughput); an approximate IVF index with
 * its recall@4 against the brute-force answers; k-means against a plain C Lloyd loop.
 *
 * Latencies are the best of 3 passes over the queries, in process CPU time.
 *
 * Data: a mixture of 256 Gaussian blobs (demonstration states come from a few scenarios and
 * policies, so they cluster), seeded. Run with OMP_NUM_THREADS=1 for one-core figures.
 *
 * usage: retrieval [--sizes 10000,100000,1000000] [--dims 16,512] [--max-mb 1024]
 *                  [--queries Q] [--kmeans-k 64]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fewshot.h>

#define K 4
#define REPEAT 3

/* CPU time of the process: with OMP_NUM_THREADS=1 this is one core's work, and it does not
 * count the time other jobs on a shared machine take from us (wall time is printed too). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    char buf[1024];
    fewshot_error_format(buf, sizeof buf);
    fprintf(stderr, "retrieval bench: %s: %s\n", what, buf);
    exit(1);
}

static float *make_data(size_t n, size_t d, uint64_t seed, const float *centres, size_t nc)
{
    fewshot_rng rng;
    fewshot_rng_seed(&rng, seed);
    float *x = malloc(n * d * sizeof *x);
    if (!x) {
        fprintf(stderr, "retrieval bench: out of memory for %zu x %zu\n", n, d);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        const float *c = centres + fewshot_rng_below(&rng, nc) * d;
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = c[j] + 0.5f * (float)fewshot_rng_normal(&rng);
    }
    return x;
}

/* The baseline: one pass over the data per query keeping the K smallest squared distances. */
static void brute_knn(const float *x, size_t n, size_t d, const float *q, int64_t *labels)
{
    float best[K];
    for (int j = 0; j < K; j++)
        best[j] = INFINITY, labels[j] = -1;
    for (size_t i = 0; i < n; i++) {
        const float *v = x + i * d;
        float s = 0;
        for (size_t t = 0; t < d; t++) {
            float diff = v[t] - q[t];
            s += diff * diff;
        }
        if (s >= best[K - 1])
            continue;
        int p = K - 1;
        while (p > 0 && best[p - 1] > s) {
            best[p] = best[p - 1];
            labels[p] = labels[p - 1];
            p--;
        }
        best[p] = s;
        labels[p] = (int64_t)i;
    }
}

/* The k-means baseline: Lloyd iterations in plain C (first k points as the start). Returns a
 * checksum of the centroids so the work cannot be optimized away. */
static float lloyd(const float *x, size_t n, size_t d, size_t k, int iters)
{
    float *c = malloc(k * d * sizeof *c), *sum = malloc(k * d * sizeof *sum);
    size_t *cnt = malloc(k * sizeof *cnt);
    memcpy(c, x, k * d * sizeof *c);
    for (int it = 0; it < iters; it++) {
        memset(sum, 0, k * d * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            size_t b = 0;
            float bd = INFINITY;
            for (size_t j = 0; j < k; j++) {
                float s = 0;
                for (size_t t = 0; t < d; t++) {
                    float diff = x[i * d + t] - c[j * d + t];
                    s += diff * diff;
                }
                if (s < bd)
                    bd = s, b = j;
            }
            cnt[b]++;
            for (size_t t = 0; t < d; t++)
                sum[b * d + t] += x[i * d + t];
        }
        for (size_t j = 0; j < k; j++)
            for (size_t t = 0; t < d && cnt[j]; t++)
                c[j * d + t] = sum[j * d + t] / (float)cnt[j];
    }
    float check = 0;
    for (size_t i = 0; i < k * d; i++)
        check += c[i];
    free(c), free(sum), free(cnt);
    return check;
}

static size_t parse_list(const char *s, size_t *out, size_t cap)
{
    size_t n = 0;
    while (*s && n < cap) {
        out[n++] = strtoull(s, (char **)&s, 10);
        if (*s == ',')
            s++;
    }
    return n;
}

static void run(size_t n, size_t d, size_t nq_opt, size_t kmeans_k)
{
    /* fewer queries where each is slow, so the whole run stays within minutes */
    size_t nq = nq_opt ? nq_opt : n * d >= 50000000 ? 20 : n * d >= 5000000 ? 50 : 200;
    float *centres = malloc(256 * d * sizeof *centres);
    fewshot_rng rng;
    fewshot_rng_seed(&rng, 1000 + d);
    for (size_t i = 0; i < 256 * d; i++)
        centres[i] = 2.0f * (float)fewshot_rng_normal(&rng);
    float *x = make_data(n, d, 1, centres, 256), *q = make_data(nq, d, 2, centres, 256);
    int64_t *ref = malloc(nq * K * sizeof *ref), *got = malloc(nq * K * sizeof *got);
    float *dist = malloc(nq * K * sizeof *dist);

    /* baseline; every latency is the best of REPEAT passes over the queries, which keeps
     * the figures steady on a shared machine */
    double t0, brute = INFINITY, exact = INFINITY, approx = INFINITY;
    for (int rep = 0; rep < REPEAT; rep++) {
        t0 = now();
        for (size_t i = 0; i < nq; i++)
            brute_knn(x, n, d, q + i * d, ref + i * K);
        brute = fmin(brute, (now() - t0) / (double)nq);
    }

    /* FAISS exact */
    fewshot_index *flat;
    if (fewshot_index_new(&flat, d, NULL) || fewshot_index_add(flat, n, x))
        die("flat index");
    for (int rep = 0; rep < REPEAT; rep++) {
        t0 = now();
        for (size_t i = 0; i < nq; i++)
            if (fewshot_index_search(flat, 1, q + i * d, K, dist, got + i * K))
                die("flat search");
        exact = fmin(exact, (now() - t0) / (double)nq);
    }
    size_t same = 0;
    for (size_t i = 0; i < nq * K; i++)
        same += got[i] == ref[i];
    t0 = now();
    if (fewshot_index_search(flat, nq, q, K, dist, got))
        die("flat batch search");
    double batch = (now() - t0) / (double)nq;
    fewshot_index_free(flat);

    /* FAISS approximate: IVF, nprobe raised until recall@4 >= 0.95 */
    size_t nlist = d >= 256 ? (n >= 100000 ? 256 : 64) : (n >= 1000000 ? 1024 : n >= 100000 ? 512 : 128);
    char factory[64];
    snprintf(factory, sizeof factory, "IVF%zu,Flat", nlist);
    fewshot_index_options o = FEWSHOT_INDEX_OPTIONS_INIT;
    o.factory = factory;
    fewshot_index *ivf;
    t0 = now();
    if (fewshot_index_new(&ivf, d, &o) || fewshot_index_add(ivf, n, x))
        die("ivf index");
    double build = now() - t0;
    double recall = 0;
    unsigned nprobe = 1;
    for (; nprobe <= nlist; nprobe *= 2) {
        if (fewshot_index_set_param(ivf, "nprobe", nprobe))
            die("nprobe");
        approx = INFINITY;
        for (int rep = 0; rep < REPEAT; rep++) {
            t0 = now();
            for (size_t i = 0; i < nq; i++)
                if (fewshot_index_search(ivf, 1, q + i * d, K, dist, got + i * K))
                    die("ivf search");
            approx = fmin(approx, (now() - t0) / (double)nq);
        }
        size_t hits = 0;
        for (size_t i = 0; i < nq; i++)
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++)
                    hits += got[i * K + a] == ref[i * K + b];
        recall = (double)hits / (double)(nq * K);
        if (recall >= 0.95)
            break;
    }
    fewshot_index_free(ivf);

    /* k-means: FAISS (25 iterations on at most 256 points per centroid, as FAISS samples)
     * against the same number of plain C Lloyd iterations on the same number of points */
    size_t sample = n < 256 * kmeans_k ? n : 256 * kmeans_k;
    fewshot_kmeans_options ko = FEWSHOT_KMEANS_OPTIONS_INIT;
    t0 = now();
    if (fewshot_kmeans(x, n, d, kmeans_k, &ko, NULL, NULL))
        die("k-means");
    double km = now() - t0;
    t0 = now();
    volatile float sink = lloyd(x, sample, d, kmeans_k, 25);
    (void)sink;
    double km_c = now() - t0;

    printf("n=%-8zu d=%-4zu brute %9.4f ms/q | flat %9.4f ms/q (x%.1f, exact %s) batch %9.0f q/s"
           " (x%.1f) | %s nprobe=%-3u %8.4f ms/q (x%.1f) recall@4 %.3f build %.1f s"
           " | k-means k=%zu %.2f s vs C Lloyd %.2f s (x%.1f)\n",
           n, d, brute * 1e3, exact * 1e3, brute / exact, same == nq * K ? "yes" : "NO",
           1.0 / batch, brute / batch, factory, nprobe, approx * 1e3, brute / approx, recall,
           build, kmeans_k, km, km_c, km_c / km);
    if (n == 100000 && d == 16)
        printf("aim: exact 100k x 16 under 1 ms/query: %.4f ms %s\n", exact * 1e3,
               exact < 1e-3 ? "MET" : "NOT MET");
    if (n == 1000000)
        printf("aim: approximate 1M x %zu recall@4 >= 0.95 under 1 ms: %.3f at %.4f ms %s\n", d,
               recall, approx * 1e3, recall >= 0.95 && approx < 1e-3 ? "MET" : "NOT MET");
    fflush(stdout);
    free(centres), free(x), free(q), free(ref), free(got), free(dist);
}

int main(int argc, char **argv)
{
    size_t sizes[8] = {10000, 100000, 1000000}, dims[8] = {16, 512};
    size_t ns = 3, nd = 2, max_mb = 1024, nq = 0, kk = 64;
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sizes") == 0)
            ns = parse_list(argv[i + 1], sizes, 8);
        else if (strcmp(argv[i], "--dims") == 0)
            nd = parse_list(argv[i + 1], dims, 8);
        else if (strcmp(argv[i], "--max-mb") == 0)
            max_mb = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--queries") == 0)
            nq = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--kmeans-k") == 0)
            kk = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: %s [--sizes N,...] [--dims D,...] [--max-mb MB] "
                    "[--queries Q] [--kmeans-k K]\n", argv[0]);
            return 2;
        }
    }
    for (size_t a = 0; a < nd; a++)
        for (size_t b = 0; b < ns; b++) {
            /* the data, the flat copy and the IVF copy */
            size_t mb = 3 * sizes[b] * dims[a] * sizeof(float) >> 20;
            if (mb > max_mb) {
                printf("n=%-8zu d=%-4zu skipped: needs about %zu MB (--max-mb %zu; "
                       "FEWSHOT_BENCH_MAX_MB for make bench)\n", sizes[b], dims[a], mb, max_mb);
                continue;
            }
            run(sizes[b], dims[a], nq, kk);
        }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    printf("(times are process CPU time; OMP_NUM_THREADS=%s; wall time of the run %.0f s)\n",
           getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "unset",
           (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec));
    return 0;
}
