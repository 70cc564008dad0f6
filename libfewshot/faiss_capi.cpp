/*
 * The subset of FAISS's official C API (faiss/c_api/*.h) that libfewshot calls, implemented
 * over the C++ library. Built only when no compiled libfaiss_c exists (Debian 12 ships the
 * C API headers but its libfaiss.a holds no faiss_* symbol). Library code calls these
 * functions exactly as it would call the real libfaiss_c, so either can be linked.
 *
 * As in FAISS's own c_api, every C++ exception stops here: FAISS exceptions return -2
 * (FAISS_EXCEPT), standard ones -4 (STD_EXCEPT), anything else -1 (UNKNOWN_EXCEPT), and the
 * message is kept per thread for faiss_get_last_error(). The library is compiled with
 * -fvisibility=hidden and exports only fewshot_*, so none of these symbols leak.
 */
#include <cstring>
#include <exception>
#include <string>

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Clustering_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>

namespace {

thread_local std::string last_error;

faiss::Index *ix(FaissIndex *p) { return reinterpret_cast<faiss::Index *>(p); }
const faiss::Index *ix(const FaissIndex *p) { return reinterpret_cast<const faiss::Index *>(p); }

/* Run f, turning exceptions into the C API's codes and message. */
template <typename F> int guard(F f)
{
    try {
        f();
        return 0;
    } catch (faiss::FaissException &e) {
        last_error = e.what();
        return FAISS_EXCEPT;
    } catch (std::exception &e) {
        last_error = e.what();
        return STD_EXCEPT;
    } catch (...) {
        last_error = "Unknown error";
        return UNKNOWN_EXCEPT;
    }
}

} // namespace

extern "C" {

const char *faiss_get_last_error()
{
    return last_error.empty() ? nullptr : last_error.c_str();
}

/* ---- Index ---- */

void faiss_Index_free(FaissIndex *obj) { delete ix(obj); }
int faiss_Index_d(const FaissIndex *obj) { return ix(obj)->d; }
int faiss_Index_is_trained(const FaissIndex *obj) { return ix(obj)->is_trained; }
idx_t faiss_Index_ntotal(const FaissIndex *obj) { return ix(obj)->ntotal; }
FaissMetricType faiss_Index_metric_type(const FaissIndex *obj)
{
    return static_cast<FaissMetricType>(ix(obj)->metric_type);
}

int faiss_Index_train(FaissIndex *index, idx_t n, const float *x)
{
    return guard([&] { ix(index)->train(n, x); });
}

int faiss_Index_add(FaissIndex *index, idx_t n, const float *x)
{
    return guard([&] { ix(index)->add(n, x); });
}

int faiss_Index_search(const FaissIndex *index, idx_t n, const float *x, idx_t k,
                       float *distances, idx_t *labels)
{
    return guard([&] { ix(index)->search(n, x, k, distances, labels); });
}

int faiss_Index_reset(FaissIndex *index)
{
    return guard([&] { ix(index)->reset(); });
}

int faiss_Index_reconstruct(const FaissIndex *index, idx_t key, float *recons)
{
    return guard([&] { ix(index)->reconstruct(key, recons); });
}

int faiss_Index_reconstruct_n(const FaissIndex *index, idx_t i0, idx_t ni, float *recons)
{
    return guard([&] { ix(index)->reconstruct_n(i0, ni, recons); });
}

int faiss_index_factory(FaissIndex **p_index, int d, const char *description,
                        FaissMetricType metric)
{
    return guard([&] {
        *p_index = reinterpret_cast<FaissIndex *>(
                faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric)));
    });
}

/* ---- flat and IVF indexes ---- */

int faiss_IndexFlatL2_new_with(FaissIndexFlatL2 **p_index, idx_t d)
{
    return guard([&] {
        *p_index = reinterpret_cast<FaissIndexFlatL2 *>(new faiss::IndexFlatL2(d));
    });
}

FaissIndexIVF *faiss_IndexIVF_cast(FaissIndex *index)
{
    return reinterpret_cast<FaissIndexIVF *>(dynamic_cast<faiss::IndexIVF *>(ix(index)));
}

int faiss_IndexIVF_make_direct_map(FaissIndexIVF *index, int new_maintain_direct_map)
{
    return guard([&] {
        reinterpret_cast<faiss::IndexIVF *>(index)->make_direct_map(new_maintain_direct_map != 0);
    });
}

/* ---- parameters (nprobe, efSearch) ---- */

void faiss_ParameterSpace_free(FaissParameterSpace *obj)
{
    delete reinterpret_cast<faiss::ParameterSpace *>(obj);
}

int faiss_ParameterSpace_new(FaissParameterSpace **space)
{
    return guard([&] {
        *space = reinterpret_cast<FaissParameterSpace *>(new faiss::ParameterSpace());
    });
}

int faiss_ParameterSpace_set_index_parameter(const FaissParameterSpace *space,
                                             FaissIndex *index, const char *name, double value)
{
    return guard([&] {
        reinterpret_cast<const faiss::ParameterSpace *>(space)->set_index_parameter(
                ix(index), name, value);
    });
}

/* ---- I/O ---- */

int faiss_write_index_fname(const FaissIndex *idx, const char *fname)
{
    return guard([&] { faiss::write_index(ix(idx), fname); });
}

int faiss_read_index_fname(const char *fname, int io_flags, FaissIndex **p_out)
{
    return guard([&] {
        *p_out = reinterpret_cast<FaissIndex *>(faiss::read_index(fname, io_flags));
    });
}

/* ---- k-means ---- */

void faiss_ClusteringParameters_init(FaissClusteringParameters *params)
{
    faiss::ClusteringParameters d;
    params->niter = d.niter;
    params->nredo = d.nredo;
    params->verbose = d.verbose;
    params->spherical = d.spherical;
    params->int_centroids = d.int_centroids;
    params->update_index = d.update_index;
    params->frozen_centroids = d.frozen_centroids;
    params->min_points_per_centroid = d.min_points_per_centroid;
    params->max_points_per_centroid = d.max_points_per_centroid;
    params->seed = d.seed;
    params->decode_block_size = d.decode_block_size;
}

int faiss_Clustering_new_with_params(FaissClustering **p_clustering, int d, int k,
                                     const FaissClusteringParameters *cp)
{
    return guard([&] {
        faiss::ClusteringParameters p;
        p.niter = cp->niter;
        p.nredo = cp->nredo;
        p.verbose = cp->verbose;
        p.spherical = cp->spherical;
        p.int_centroids = cp->int_centroids;
        p.update_index = cp->update_index;
        p.frozen_centroids = cp->frozen_centroids;
        p.min_points_per_centroid = cp->min_points_per_centroid;
        p.max_points_per_centroid = cp->max_points_per_centroid;
        p.seed = cp->seed;
        p.decode_block_size = cp->decode_block_size;
        *p_clustering = reinterpret_cast<FaissClustering *>(new faiss::Clustering(d, k, p));
    });
}

int faiss_Clustering_train(FaissClustering *clustering, idx_t n, const float *x,
                           FaissIndex *index)
{
    return guard([&] {
        reinterpret_cast<faiss::Clustering *>(clustering)->train(n, x, *ix(index));
    });
}

void faiss_Clustering_centroids(FaissClustering *clustering, float **centroids, size_t *size)
{
    std::vector<float> &c = reinterpret_cast<faiss::Clustering *>(clustering)->centroids;
    if (centroids)
        *centroids = c.data();
    if (size)
        *size = c.size();
}

void faiss_Clustering_free(FaissClustering *clustering)
{
    delete reinterpret_cast<faiss::Clustering *>(clustering);
}

} // extern "C"
