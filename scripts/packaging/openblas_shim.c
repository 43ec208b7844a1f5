/* Stands in for OpenCV's own OpenBLAS in the desktop build (console.spec): opencv-python-headless
 * vendors a 39 MB OpenBLAS (with its Fortran runtime) for the 4 CBLAS and 14 LAPACK routines
 * below, which its HAL calls for large matrices only; NumPy vendors another OpenBLAS, built with
 * 64-bit integers and a "scipy_" prefix (scipy-openblas64). Each routine here converts OpenCV's
 * 32-bit integers (and integer arrays: pivots, workspaces) to 64-bit ones and calls NumPy's. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int64_t i64;

#define CBLAS_GEMM(T, S, SCALAR, BY)                                                          \
    void scipy_cblas_##S##gemm64_(int, int, int, i64, i64, i64, SCALAR, const T *, i64,        \
                                  const T *, i64, SCALAR, T *, i64);                          \
    void cblas_##S##gemm(int order, int ta, int tb, int m, int n, int k, SCALAR alpha,         \
                         const T *a, int lda, const T *b, int ldb, SCALAR beta, T *c,          \
                         int ldc) {                                                           \
        scipy_cblas_##S##gemm64_(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); \
    }
CBLAS_GEMM(float, s, float, value)
CBLAS_GEMM(double, d, double, value)
CBLAS_GEMM(void, c, const void *, pointer)
CBLAS_GEMM(void, z, const void *, pointer)

/* LAPACK: Fortran calling convention (everything by reference, a hidden length per character
 * argument, passed as 1 here). */
#define L(x) ((i64)*(x))

#define GESDD(T, S)                                                                           \
    void scipy_##S##gesdd_64_(const char *, const i64 *, const i64 *, T *, const i64 *, T *,   \
                              T *, const i64 *, T *, const i64 *, T *, const i64 *, i64 *,     \
                              i64 *, size_t);                                                 \
    void S##gesdd_(const char *jobz, const int *m, const int *n, T *a, const int *lda, T *s,  \
                   T *u, const int *ldu, T *vt, const int *ldvt, T *work, const int *lwork,    \
                   int *iwork, int *info) {                                                   \
        i64 m_ = L(m), n_ = L(n), lda_ = L(lda), ldu_ = L(ldu), ldvt_ = L(ldvt);               \
        i64 lwork_ = L(lwork), info_ = 0, k = m_ < n_ ? m_ : n_;                               \
        i64 *iwork_ = malloc(sizeof(i64) * (size_t)(8 * (k > 0 ? k : 1)));                    \
        (void)iwork;                                                                          \
        if (!iwork_) { *info = -13; return; }                                                 \
        scipy_##S##gesdd_64_(jobz, &m_, &n_, a, &lda_, s, u, &ldu_, vt, &ldvt_, work,          \
                             &lwork_, iwork_, &info_, 1);                                     \
        free(iwork_);                                                                         \
        *info = (int)info_;                                                                   \
    }
GESDD(float, s)
GESDD(double, d)

#define GEQRF(T, S)                                                                           \
    void scipy_##S##geqrf_64_(const i64 *, const i64 *, T *, const i64 *, T *, T *,            \
                              const i64 *, i64 *);                                            \
    void S##geqrf_(const int *m, const int *n, T *a, const int *lda, T *tau, T *work,          \
                   const int *lwork, int *info) {                                             \
        i64 m_ = L(m), n_ = L(n), lda_ = L(lda), lwork_ = L(lwork), info_ = 0;                 \
        scipy_##S##geqrf_64_(&m_, &n_, a, &lda_, tau, work, &lwork_, &info_);                 \
        *info = (int)info_;                                                                   \
    }
GEQRF(float, s)
GEQRF(double, d)

#define GELS(T, S)                                                                            \
    void scipy_##S##gels_64_(const char *, const i64 *, const i64 *, const i64 *, T *,         \
                             const i64 *, T *, const i64 *, T *, const i64 *, i64 *, size_t);  \
    void S##gels_(const char *trans, const int *m, const int *n, const int *nrhs, T *a,        \
                  const int *lda, T *b, const int *ldb, T *work, const int *lwork,             \
                  int *info) {                                                                \
        i64 m_ = L(m), n_ = L(n), nrhs_ = L(nrhs), lda_ = L(lda), ldb_ = L(ldb);               \
        i64 lwork_ = L(lwork), info_ = 0;                                                     \
        scipy_##S##gels_64_(trans, &m_, &n_, &nrhs_, a, &lda_, b, &ldb_, work, &lwork_,        \
                            &info_, 1);                                                       \
        *info = (int)info_;                                                                   \
    }
GELS(float, s)
GELS(double, d)

#define GESV(T, S)                                                                            \
    void scipy_##S##gesv_64_(const i64 *, const i64 *, T *, const i64 *, i64 *, T *,           \
                             const i64 *, i64 *);                                             \
    void S##gesv_(const int *n, const int *nrhs, T *a, const int *lda, int *ipiv, T *b,        \
                  const int *ldb, int *info) {                                                \
        i64 n_ = L(n), nrhs_ = L(nrhs), lda_ = L(lda), ldb_ = L(ldb), info_ = 0;               \
        i64 *ipiv_ = malloc(sizeof(i64) * (size_t)(n_ > 0 ? n_ : 1));                         \
        if (!ipiv_) { *info = -5; return; }                                                   \
        scipy_##S##gesv_64_(&n_, &nrhs_, a, &lda_, ipiv_, b, &ldb_, &info_);                  \
        for (i64 i = 0; i < n_; i++) ipiv[i] = (int)ipiv_[i];                                 \
        free(ipiv_);                                                                          \
        *info = (int)info_;                                                                   \
    }
GESV(float, s)
GESV(double, d)

#define GETRF(T, S)                                                                           \
    void scipy_##S##getrf_64_(const i64 *, const i64 *, T *, const i64 *, i64 *, i64 *);       \
    void S##getrf_(const int *m, const int *n, T *a, const int *lda, int *ipiv, int *info) {   \
        i64 m_ = L(m), n_ = L(n), lda_ = L(lda), info_ = 0, k = m_ < n_ ? m_ : n_;             \
        i64 *ipiv_ = malloc(sizeof(i64) * (size_t)(k > 0 ? k : 1));                           \
        if (!ipiv_) { *info = -5; return; }                                                   \
        scipy_##S##getrf_64_(&m_, &n_, a, &lda_, ipiv_, &info_);                              \
        for (i64 i = 0; i < k; i++) ipiv[i] = (int)ipiv_[i];                                  \
        free(ipiv_);                                                                          \
        *info = (int)info_;                                                                   \
    }
GETRF(float, s)
GETRF(double, d)

#define POSV(T, S)                                                                            \
    void scipy_##S##posv_64_(const char *, const i64 *, const i64 *, T *, const i64 *, T *,    \
                             const i64 *, i64 *, size_t);                                     \
    void S##posv_(const char *uplo, const int *n, const int *nrhs, T *a, const int *lda, T *b, \
                  const int *ldb, int *info) {                                                \
        i64 n_ = L(n), nrhs_ = L(nrhs), lda_ = L(lda), ldb_ = L(ldb), info_ = 0;               \
        scipy_##S##posv_64_(uplo, &n_, &nrhs_, a, &lda_, b, &ldb_, &info_, 1);                \
        *info = (int)info_;                                                                   \
    }
POSV(float, s)
POSV(double, d)

#define POTRF(T, S)                                                                           \
    void scipy_##S##potrf_64_(const char *, const i64 *, T *, const i64 *, i64 *, size_t);     \
    void S##potrf_(const char *uplo, const int *n, T *a, const int *lda, int *info) {          \
        i64 n_ = L(n), lda_ = L(lda), info_ = 0;                                              \
        scipy_##S##potrf_64_(uplo, &n_, a, &lda_, &info_, 1);                                 \
        *info = (int)info_;                                                                   \
    }
POTRF(float, s)
POTRF(double, d)

void scipy_dgeev_64_(const char *, const char *, const i64 *, double *, const i64 *, double *,
                     double *, double *, const i64 *, double *, const i64 *, double *,
                     const i64 *, i64 *, size_t, size_t);
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda,
            double *wr, double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr,
            double *work, const int *lwork, int *info) {
    i64 n_ = L(n), lda_ = L(lda), ldvl_ = L(ldvl), ldvr_ = L(ldvr), lwork_ = L(lwork), info_ = 0;
    scipy_dgeev_64_(jobvl, jobvr, &n_, a, &lda_, wr, wi, vl, &ldvl_, vr, &ldvr_, work, &lwork_,
                    &info_, 1, 1);
    *info = (int)info_;
}
