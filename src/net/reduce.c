/* Reductions of one block's MLP (reduce.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reduce.h"
#include "xalloc.h"

/* entry (i, j) of an exact matrix as its double (model weights are doubles) */
static double dget(const imat_t A, long i, long j)
{
    return arf_get_d(arb_midref(imat_entry(A, i, j)), ARF_RND_NEAR);
}

typedef struct {
    uint64_t h;
    long k;
} hkey_t;

static int hkey_cmp(const void *a, const void *b)
{
    const hkey_t *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

static uint64_t mix(uint64_t h, double v)
{
    uint64_t u;
    v += 0.0; /* -0 hashes as +0 */
    memcpy(&u, &v, sizeof u);
    h ^= u + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

/* gamma o w_j = s (gamma o w_k) and b'_j = s b'_k, exactly */
static int same_neuron(const double *Wd, const double *g, long d, long M, const arb_t bj,
                       const arb_t bk, long j, long k, int s)
{
    for (long i = 0; i < d; i++)
        if (g[i] != 0 && Wd[i * M + j] != (double)s * Wd[i * M + k])
            return 0;
    if (s > 0)
        return arb_equal(bj, bk);
    arb_t t;
    arb_init(t);
    arb_neg(t, bk);
    int eq = arb_equal(bj, t);
    arb_clear(t);
    return eq;
}

static void class_outputs(double *on, int *zero, const reduce_info_t *I, const imat_t W_out);

void reduce_analyse(reduce_info_t *I, const tblock_t *B, const convert_act_t *ca,
                    mpfr_prec_t prec)
{
    long d = B->d_model, M = B->d_mlp;
    const aonet_ln_t *ln = &B->ln2;
    memset(I, 0, sizeof *I);
    I->d = d;
    I->M = M;
    I->bounded = ln->kind != AONET_LN_NONE;
    I->centred = aonet_ln_centres(ln->kind);
    int relu = strcmp(ca->phi.name, "relu") == 0;
    I->odd_linear = !B->gated && (ca->kind == CONVERT_ACT_SILU || ca->kind == CONVERT_ACT_APPROX);
    I->bf = _arb_vec_init(M);
    I->R = _arb_vec_init(M);
    arb_init(I->tail_bound);
    I->pw = xmallocarray((size_t)(M * d), sizeof *I->pw);
    I->bfd = xmallocarray((size_t)M, sizeof *I->bfd);
    I->wout = xmallocarray((size_t)M, sizeof *I->wout);
    I->cls = xmallocarray((size_t)M, sizeof *I->cls);
    I->sgn = xmallocarray((size_t)M, sizeof *I->sgn);
    I->dropped = xcalloc((size_t)M, sizeof *I->dropped);
    I->tail = xcalloc((size_t)M, sizeof *I->tail);
    double *g = xmallocarray((size_t)d, sizeof *g), *Wd = xmallocarray((size_t)(d * M), sizeof *Wd);
    for (long i = 0; i < d; i++)
        g[i] = aonet_ln_has_w(ln->kind) ? dget(ln->w, 0, i) : 1.0;
    for (long i = 0; i < d; i++)
        for (long k = 0; k < M; k++)
            Wd[i * M + k] = dget(B->W_in, i, k);
    arb_t v, s, t, sq;
    arb_init(v);
    arb_init(s);
    arb_init(t);
    arb_init(sq);
    arb_sqrt_ui(sq, (ulong)d, prec);
    arb_ptr col = _arb_vec_init(d);
    hkey_t *keys = xmallocarray((size_t)M, sizeof *keys);
    for (long k = 0; k < M; k++) {
        /* b'_k = beta . w_k + b_k, exact */
        arb_set(I->bf + k, imat_entry(B->b_in, 0, k));
        if (aonet_ln_has_b(ln->kind))
            for (long i = 0; i < d; i++)
                arb_addmul(I->bf + k, imat_entry(ln->b, 0, i), imat_entry(B->W_in, i, k),
                           ARF_PREC_EXACT);
        I->bfd[k] = arf_get_d(arb_midref(I->bf + k), ARF_RND_NEAR);
        /* R_k = sqrt(d) ||P w'_k||_2, w'_k = gamma o w_k exact */
        arb_zero(s);
        for (long i = 0; i < d; i++) {
            arb_set_d(v, g[i]);
            arb_mul(col + i, v, imat_entry(B->W_in, i, k), ARF_PREC_EXACT);
            arb_add(s, s, col + i, ARF_PREC_EXACT);
        }
        arb_div_si(s, s, d, prec); /* the mean (centred norms) */
        double md = I->centred ? arf_get_d(arb_midref(s), ARF_RND_NEAR) : 0.0;
        arb_zero(t);
        for (long i = 0; i < d; i++) {
            if (I->centred)
                arb_sub(v, col + i, s, prec);
            else
                arb_set(v, col + i);
            arb_addmul(t, v, v, prec);
            I->pw[k * d + i] = g[i] * Wd[i * M + k] - md;
        }
        arb_sqrt(t, t, prec);
        arb_mul(I->R + k, t, sq, prec);
        if (!I->bounded)
            arb_pos_inf(I->R + k);
        imat_row_norm2(t, B->W_out, k, prec);
        I->wout[k] = ival_hi_d(t);
        /* the class key: (w', b') with the sign that makes its first non-zero entry positive */
        int sg = 1;
        if (I->odd_linear) {
            double first = 0;
            for (long i = 0; i < d && first == 0; i++)
                first = g[i] != 0 ? g[i] * Wd[i * M + k] : 0;
            if (first == 0)
                first = I->bfd[k];
            sg = first < 0 ? -1 : 1;
        }
        uint64_t h = 1469598103934665603ULL;
        for (long i = 0; i < d; i++)
            h = mix(h, g[i] != 0 ? (double)sg * g[i] * Wd[i * M + k] : 0.0);
        h = mix(h, (double)sg * I->bfd[k]);
        keys[k] = (hkey_t){h, k};
        I->sgn[k] = sg; /* the key's sign for now */
        /* silent: W_out[k,:] = 0 */
        int silent = 1;
        for (long j = 0; j < d && silent; j++)
            silent = arb_is_zero(imat_entry(B->W_out, k, j));
        I->dropped[k] = silent;
        I->n_silent += silent;
        if (silent)
            I->sgn[k] = 1; /* no class, no linear term */
    }
    /* classes: equal keys, confirmed exactly; the first neuron is the class */
    qsort(keys, (size_t)M, sizeof *keys, hkey_cmp);
    for (long k = 0; k < M; k++)
        I->cls[k] = -1;
    int *ksg = xmallocarray((size_t)M, sizeof *ksg);
    memcpy(ksg, I->sgn, (size_t)M * sizeof *ksg);
    for (long a = 0; a < M;) {
        long e = a;
        while (e < M && keys[e].h == keys[a].h)
            e++;
        for (long x = a; x < e; x++) {
            long j = keys[x].k;
            if (I->cls[j] >= 0 || I->dropped[j])
                continue;
            I->cls[j] = j;
            I->sgn[j] = 1;
            for (long y = x + 1; y < e; y++) {
                long k = keys[y].k;
                int rel = ksg[j] * ksg[k];
                if (I->cls[k] < 0 && !I->dropped[k] &&
                    same_neuron(Wd, g, d, M, I->bf + k, I->bf + j, k, j, rel)) {
                    I->cls[k] = j;
                    I->sgn[k] = rel;
                }
            }
        }
        a = e;
    }
    /* counts, dead classes (relu) and tails (per neuron: a duplicate has its class's z) */
    for (long k = 0; k < M; k++) {
        if (I->dropped[k])
            continue;
        if (I->cls[k] != k) {
            if (I->sgn[k] > 0)
                I->n_dup++;
            else
                I->n_opp++;
        } else {
            I->n_classes++;
        }
        if (!I->bounded || I->sgn[k] < 0)
            continue;
        arb_add(t, I->bf + k, I->R + k, prec); /* hi of z_k on the domain */
        if (relu) {
            if (I->cls[k] == k && arb_is_nonpositive(t)) {
                I->dropped[k] = 2; /* phi(z_k) = 0 on the domain; its opposites stay linear */
                I->n_dead++;
            }
            continue;
        }
        arb_set_si(v, -2);
        if (!arb_le(t, v))
            continue;
        /* sup |phi| over [b' - R, b' + R]: one interval evaluation, times ||W_out[k,:]||_2 */
        arb_sub(v, I->bf + k, I->R + k, prec);
        arb_union(v, v, t, prec);
        act_eval_ival(s, v, &ca->phi, prec);
        arb_abs(s, s);
        imat_row_norm2(v, B->W_out, k, prec);
        arb_mul(s, s, v, prec);
        arb_add(I->tail_bound, I->tail_bound, s, prec);
        I->tail[k] = 1;
        I->n_tail++;
    }
    free(ksg);
    free(keys);
    _arb_vec_clear(col, d);
    arb_clear(v);
    arb_clear(s);
    arb_clear(t);
    arb_clear(sq);
    free(g);
    free(Wd);
    I->onorm = xmallocarray((size_t)M, sizeof *I->onorm);
    I->ozero = xmallocarray((size_t)M, sizeof *I->ozero);
    class_outputs(I->onorm, I->ozero, I, B->W_out);
    /* the floor: classes with a head (not dead, non-zero output), + a linear head */
    reduce_plan_t p;
    reduce_plan_exact(&p, I);
    I->floor = p.k;
    for (long k = 0; k < M; k++)
        if (I->sgn[k] < 0)
            I->has_linear = 1;
    I->floor += I->has_linear;
    reduce_plan_clear(&p);
}

void reduce_info_clear(reduce_info_t *I)
{
    _arb_vec_clear(I->bf, I->M);
    _arb_vec_clear(I->R, I->M);
    arb_clear(I->tail_bound);
    free(I->pw);
    free(I->bfd);
    free(I->wout);
    free(I->cls);
    free(I->sgn);
    free(I->dropped);
    free(I->tail);
    free(I->onorm);
    free(I->ozero);
    memset(I, 0, sizeof *I);
}

void reduce_plan_clear(reduce_plan_t *p)
{
    free(p->group);
    p->group = NULL;
    p->M = p->k = 0;
}

/* ||O_c||: the class outputs' norms in doubles (ordering only) and whether
 * O_c is exactly 0 (by the rows' doubles summed exactly in Arb) */
static void class_outputs(double *on, int *zero, const reduce_info_t *I, const imat_t W_out)
{
    long M = I->M, d = I->d;
    arb_ptr o = _arb_vec_init(d);
    for (long c = 0; c < M; c++) {
        on[c] = 0;
        zero[c] = 1;
        if (I->cls[c] != c || I->dropped[c])
            continue;
        _arb_vec_zero(o, d);
        for (long j = c; j < M; j++)
            if (I->cls[j] == c && !I->dropped[j])
                for (long i = 0; i < d; i++)
                    arb_add(o + i, o + i, imat_entry(W_out, j, i), ARF_PREC_EXACT);
        double s = 0;
        for (long i = 0; i < d; i++) {
            double x = arf_get_d(arb_midref(o + i), ARF_RND_NEAR);
            s += x * x;
            if (!arb_is_zero(o + i))
                zero[c] = 0;
        }
        on[c] = sqrt(s);
    }
    _arb_vec_clear(o, d);
}

void reduce_plan_exact(reduce_plan_t *p, const reduce_info_t *I)
{
    p->M = I->M;
    p->k = 0;
    p->group = xmallocarray((size_t)I->M, sizeof *p->group);
    long *gid = xmallocarray((size_t)I->M, sizeof *gid);
    for (long c = 0; c < I->M; c++) {
        gid[c] = -1;
        /* a class has a head unless it is dead, silent or its output sums to 0 */
        if (I->cls[c] == c && !I->dropped[c] && !I->ozero[c])
            gid[c] = p->k++;
    }
    for (long j = 0; j < I->M; j++)
        p->group[j] = I->cls[j] >= 0 && I->dropped[j] != 1 ? gid[I->cls[j]] : -1;
    free(gid);
}

/* ---- greedy agglomerative merging ---- */

typedef struct {
    long G, d;
    double *cen, *cb, *cs; /* s-weighted mean P w', b', and s = sum of ||O_c|| */
    double sqd;
} clus_t;

static double clus_cost(const clus_t *C, long a, long b)
{
    /* four partial sums: the loop is the merge order's whole cost */
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const double *x = C->cen + a * C->d, *y = C->cen + b * C->d;
    long i = 0;
    for (; i + 4 <= C->d; i += 4) {
        double t0 = x[i] - y[i], t1 = x[i + 1] - y[i + 1], t2 = x[i + 2] - y[i + 2],
               t3 = x[i + 3] - y[i + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    for (; i < C->d; i++)
        s0 += (x[i] - y[i]) * (x[i] - y[i]);
    double s = (s0 + s1) + (s2 + s3);
    double delta = fabs(C->cb[a] - C->cb[b]) + C->sqd * sqrt(s);
    return C->cs[a] * C->cs[b] / (C->cs[a] + C->cs[b]) * delta;
}

static void clus_nearest(const clus_t *C, const char *alive, long a, long *nn, double *nnd)
{
    nn[a] = -1;
    nnd[a] = HUGE_VAL;
    for (long b = 0; b < C->G; b++) {
        if (b == a || !alive[b])
            continue;
        double c = clus_cost(C, a, b);
        if (c < nnd[a] || (c == nnd[a] && b < nn[a])) {
            nnd[a] = c;
            nn[a] = b;
        }
    }
}

void reduce_merge_order(reduce_merges_t *mo, const reduce_info_t *I, const reduce_plan_t *exact)
{
    long G = exact->k, d = I->d;
    clus_t C = {G, d, xcalloc((size_t)(G * d) + 1, sizeof(double)),
                xcalloc((size_t)G + 1, sizeof(double)), xcalloc((size_t)G + 1, sizeof(double)),
                sqrt((double)d)};
    for (long c = 0; c < I->M; c++) {
        long g = exact->group[c];
        if (g < 0 || I->cls[c] != c)
            continue;
        /* the smallest positive s keeps a zero-norm class (rounded) mergeable */
        C.cs[g] = I->onorm[c] > 0 ? I->onorm[c] : 0x1p-1000;
        memcpy(C.cen + g * d, I->pw + c * d, (size_t)d * sizeof(double));
        C.cb[g] = I->bfd[c];
    }
    char *alive = xmalloc((size_t)G + 1);
    memset(alive, 1, (size_t)G + 1);
    long *nn = xmallocarray((size_t)G + 1, sizeof *nn);
    double *nnd = xmallocarray((size_t)G + 1, sizeof *nnd);
    for (long a = 0; a < G; a++)
        clus_nearest(&C, alive, a, nn, nnd);
    mo->n_groups = G;
    mo->n_steps = G > 0 ? G - 1 : 0;
    mo->order = xmallocarray((size_t)(2 * mo->n_steps) + 1, sizeof *mo->order);
    /* dirty: a neighbour that merged; its cost to the merged group is
     * current, its other costs are refreshed when it comes up as the least */
    char *dirty = xcalloc((size_t)G + 1, 1);
    for (long t = 0; t < mo->n_steps; t++) {
        long a = -1;
        for (;;) {
            a = -1;
            for (long x = 0; x < G; x++)
                if (alive[x] && nn[x] >= 0 && (a < 0 || nnd[x] < nnd[a]))
                    a = x;
            if (!dirty[a])
                break;
            clus_nearest(&C, alive, a, nn, nnd);
            dirty[a] = 0;
        }
        long b = nn[a];
        if (b < a) { /* the smaller id survives: the order is the same whichever is found */
            long tmp = a;
            a = b;
            b = tmp;
        }
        mo->order[2 * t] = a;
        mo->order[2 * t + 1] = b;
        double sa = C.cs[a], sb = C.cs[b], s = sa + sb;
        for (long i = 0; i < d; i++)
            C.cen[a * d + i] = (sa * C.cen[a * d + i] + sb * C.cen[b * d + i]) / s;
        C.cb[a] = (sa * C.cb[a] + sb * C.cb[b]) / s;
        C.cs[a] = s;
        alive[b] = 0;
        clus_nearest(&C, alive, a, nn, nnd);
        for (long x = 0; x < G; x++) {
            if (!alive[x] || x == a)
                continue;
            if (nn[x] == a || nn[x] == b) {
                nn[x] = a;
                nnd[x] = clus_cost(&C, x, a);
                dirty[x] = 1;
            } else {
                double c = clus_cost(&C, x, a);
                if (c < nnd[x] || (c == nnd[x] && a < nn[x])) {
                    nnd[x] = c;
                    nn[x] = a;
                }
            }
        }
    }
    free(alive);
    free(dirty);
    free(nn);
    free(nnd);
    free(C.cen);
    free(C.cb);
    free(C.cs);
}

void reduce_merges_clear(reduce_merges_t *mo)
{
    free(mo->order);
    memset(mo, 0, sizeof *mo);
}

void reduce_plan_budget(reduce_plan_t *p, const reduce_plan_t *exact, const reduce_merges_t *mo,
                        long k)
{
    long G = mo->n_groups;
    if (k < 1)
        k = 1;
    if (k > G)
        k = G;
    long *root = xmallocarray((size_t)G + 1, sizeof *root), *id = xmallocarray((size_t)G + 1,
                                                                               sizeof *id);
    for (long g = 0; g < G; g++)
        root[g] = g;
    for (long t = 0; t < G - k; t++)
        root[mo->order[2 * t + 1]] = mo->order[2 * t];
    p->M = exact->M;
    p->k = 0;
    for (long g = 0; g < G; g++) {
        long r = g;
        while (root[r] != r)
            r = root[r];
        root[g] = r;
        id[g] = -1;
    }
    for (long g = 0; g < G; g++)
        if (root[g] == g)
            id[g] = p->k++;
    p->group = xmallocarray((size_t)p->M + 1, sizeof *p->group);
    for (long j = 0; j < p->M; j++)
        p->group[j] = exact->group[j] < 0 ? -1 : id[root[exact->group[j]]];
    free(root);
    free(id);
}

/* ---- the reduced MLP ---- */

void reduce_build(reduce_mlp_t *R, const tblock_t *B, const reduce_info_t *I,
                  const reduce_plan_t *p, int exact_claim, const imat_struct *box,
                  mpfr_prec_t prec)
{
    long d = I->d, M = I->M, k = p->k;
    const aonet_ln_t *ln = &B->ln2;
    R->k = k;
    imat_init(R->W_in, d, k);
    imat_init(R->b_in, 1, k);
    imat_init(R->W_out, k, d);
    imat_init(R->b_out, 1, d);
    imat_set(R->b_out, B->b_out);
    imat_init(R->Lin, I->has_linear ? d : 0, I->has_linear ? d : 0);
    imat_init(R->lin_b, 1, d);
    arb_init(R->domain_bound);
    arb_zero(R->domain_bound);
    arb_init(R->box_bound);
    if (box)
        arb_zero(R->box_bound);
    else
        arb_pos_inf(R->box_bound);
    /* the classes of each group, and their weights s_c = ||O_c|| */
    long *ncls = xcalloc((size_t)k + 1, sizeof *ncls), *first = xmallocarray((size_t)k + 1,
                                                                              sizeof *first);
    double *ssum = xcalloc((size_t)k + 1, sizeof *ssum);
    for (long c = 0; c < M; c++) {
        long g = p->group[c];
        if (g < 0 || I->cls[c] != c)
            continue;
        if (ncls[g]++ == 0)
            first[g] = c;
        ssum[g] += I->onorm[c];
    }
    double *wm = xmallocarray((size_t)d + 1, sizeof *wm);
    arb_t t, u, lip, bg, sq;
    arb_init(t);
    arb_init(u);
    arb_init(lip);
    arb_init(bg);
    arb_init(sq);
    arb_one(lip);
    arb_exp(lip, lip, prec);
    arb_inv(lip, lip, prec);
    arb_add_ui(lip, lip, 1, prec); /* 1 + 1/e */
    arb_sqrt_ui(sq, (ulong)d, prec);
    arb_ptr diff = _arb_vec_init(d);
    for (long g = 0; g < k; g++) {
        if (ncls[g] == 1) {
            long c = first[g];
            for (long i = 0; i < d; i++)
                arb_set(imat_entry(R->W_in, i, g), imat_entry(B->W_in, i, c));
            arb_set(imat_entry(R->b_in, 0, g), imat_entry(B->b_in, 0, c));
            continue;
        }
        /* the s-weighted mean of the classes' (w, b), in doubles; then exact */
        double bm = 0, ws = ssum[g] > 0 ? ssum[g] : 1;
        for (long i = 0; i < d; i++)
            wm[i] = 0;
        for (long c = 0; c < M; c++) {
            if (p->group[c] != g || I->cls[c] != c)
                continue;
            double a = ssum[g] > 0 ? I->onorm[c] / ws : 1.0 / (double)ncls[g];
            for (long i = 0; i < d; i++)
                wm[i] += a * dget(B->W_in, i, c);
            bm += a * dget(B->b_in, 0, c);
        }
        for (long i = 0; i < d; i++)
            arb_set_d(imat_entry(R->W_in, i, g), wm[i]);
        arb_set_d(imat_entry(R->b_in, 0, g), bm);
        if (exact_claim)
            continue;
        if (box)
            for (long c = 0; c < M; c++) {
                if (p->group[c] != g || I->cls[c] != c)
                    continue;
                /* delta_c over the box: u . (w_c - w_g) + (b_c - b_g), one ball */
                arb_sub(t, imat_entry(B->b_in, 0, c), imat_entry(R->b_in, 0, g), prec);
                for (long i = 0; i < d; i++) {
                    arb_sub(u, imat_entry(B->W_in, i, c), imat_entry(R->W_in, i, g),
                            ARF_PREC_EXACT);
                    arb_addmul(t, u, box->e + i, prec);
                }
                arb_abs(t, t);
                arb_get_ubound_arf(arb_midref(u), t, prec);
                mag_zero(arb_radref(u));
                arb_set(t, u);
                /* times ||O_c||_2 (1 + 1/e) */
                arb_zero(u);
                for (long i = 0; i < d; i++) {
                    arb_zero(diff + i);
                    for (long j = c; j < M; j++)
                        if (I->cls[j] == c && I->dropped[j] != 1)
                            arb_add(diff + i, diff + i, imat_entry(B->W_out, j, i),
                                    ARF_PREC_EXACT);
                    arb_addmul(u, diff + i, diff + i, prec);
                }
                arb_sqrt(u, u, prec);
                arb_mul(t, t, u, prec);
                arb_mul(t, t, lip, prec);
                arb_add(R->box_bound, R->box_bound, t, prec);
            }
        if (!I->bounded) {
            arb_pos_inf(R->domain_bound);
            continue;
        }
        /* b'_g = beta . w_g + b_g, exact */
        arb_set(bg, imat_entry(R->b_in, 0, g));
        if (aonet_ln_has_b(ln->kind))
            for (long i = 0; i < d; i++)
                arb_addmul(bg, imat_entry(ln->b, 0, i), imat_entry(R->W_in, i, g),
                           ARF_PREC_EXACT);
        for (long c = 0; c < M; c++) {
            if (p->group[c] != g || I->cls[c] != c)
                continue;
            /* delta_c = |b'_c - b'_g| + sqrt(d) ||P gamma o (w_c - w_g)||_2 */
            arb_zero(u);
            for (long i = 0; i < d; i++) {
                arb_sub(diff + i, imat_entry(B->W_in, i, c), imat_entry(R->W_in, i, g),
                        ARF_PREC_EXACT);
                if (aonet_ln_has_w(ln->kind))
                    arb_mul(diff + i, diff + i, imat_entry(ln->w, 0, i), ARF_PREC_EXACT);
                arb_add(u, u, diff + i, ARF_PREC_EXACT);
            }
            arb_div_si(u, u, d, prec);
            arb_zero(t);
            for (long i = 0; i < d; i++) {
                if (I->centred)
                    arb_sub(diff + i, diff + i, u, prec);
                arb_addmul(t, diff + i, diff + i, prec);
            }
            arb_sqrt(t, t, prec);
            arb_mul(t, t, sq, prec);
            arb_sub(u, I->bf + c, bg, prec);
            arb_abs(u, u);
            arb_add(t, t, u, prec);
            /* times ||O_c||_2 (1 + 1/e) */
            arb_zero(u);
            for (long i = 0; i < d; i++) {
                arb_zero(diff + i);
                for (long j = c; j < M; j++)
                    if (I->cls[j] == c && I->dropped[j] != 1)
                        arb_add(diff + i, diff + i, imat_entry(B->W_out, j, i), ARF_PREC_EXACT);
                arb_addmul(u, diff + i, diff + i, prec);
            }
            arb_sqrt(u, u, prec);
            arb_mul(t, t, u, prec);
            arb_mul(t, t, lip, prec);
            arb_add(R->domain_bound, R->domain_bound, t, prec);
        }
    }
    /* outputs: the sum of the group's W_out rows, exact */
    for (long j = 0; j < M; j++) {
        long g = p->group[j];
        if (g < 0)
            continue;
        for (long i = 0; i < d; i++)
            arb_add(imat_entry(R->W_out, g, i), imat_entry(R->W_out, g, i),
                    imat_entry(B->W_out, j, i), ARF_PREC_EXACT);
    }
    /* linear terms: phi(-z_c) W_j = phi(z_c) W_j - (u . w_c + b_c) W_j */
    for (long j = 0; j < M; j++) {
        if (I->sgn[j] > 0 || I->dropped[j] == 1)
            continue;
        long c = I->cls[j];
        for (long m = 0; m < d; m++) {
            arb_srcptr wo = imat_entry(B->W_out, j, m);
            for (long i = 0; i < d; i++)
                arb_submul(imat_entry(R->Lin, i, m), imat_entry(B->W_in, i, c), wo, prec);
            arb_submul(imat_entry(R->lin_b, 0, m), imat_entry(B->b_in, 0, c), wo, prec);
        }
    }
    _arb_vec_clear(diff, d);
    arb_clear(t);
    arb_clear(u);
    arb_clear(lip);
    arb_clear(bg);
    arb_clear(sq);
    free(wm);
    free(ncls);
    free(first);
    free(ssum);
}

void reduce_mlp_clear(reduce_mlp_t *R)
{
    imat_clear(R->W_in);
    imat_clear(R->b_in);
    imat_clear(R->W_out);
    imat_clear(R->b_out);
    imat_clear(R->Lin);
    imat_clear(R->lin_b);
    arb_clear(R->domain_bound);
    arb_clear(R->box_bound);
}

void reduce_mlp_apply(imat_t Y, const reduce_mlp_t *R, const tblock_t *B, const imat_t H,
                      ival_act_fn phi, const void *ctx, mpfr_prec_t prec)
{
    long N = H->rows, d = B->d_model;
    imat_t U, Z, O;
    imat_init(U, N, H->cols);
    imat_init(Z, N, R->k);
    imat_init(O, N, d);
    aonet_ln_apply(U, H, &B->ln2, prec);
    imat_mul(Z, U, R->W_in, prec);
    imat_add_row_vector(Z, R->b_in, prec);
    for (long k = 0; k < N * R->k; k++)
        phi(Z->e + k, Z->e + k, ctx, prec);
    imat_mul(O, Z, R->W_out, prec);
    imat_add_row_vector(O, R->b_out, prec);
    if (R->Lin->rows) {
        imat_addmul(O, U, R->Lin, prec);
        imat_add_row_vector(O, R->lin_b, prec);
    }
    imat_add(Y, H, O, prec);
    imat_clear(U);
    imat_clear(Z);
    imat_clear(O);
}

long reduce_mlp_heads(const reduce_mlp_t *R)
{
    return R->k + (R->Lin->rows ? 1 : 0);
}
