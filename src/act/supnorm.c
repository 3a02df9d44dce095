/* Branch and bound for certified sup norms (supnorm.h). */
#include "supnorm.h"
#include "special.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static double default_deadline; /* set once by the command line, before threads */
static atomic_int deadline_reached;

static double monotonic_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void supnorm_set_deadline(double seconds)
{
    default_deadline = seconds > 0 ? monotonic_seconds() + seconds : 0;
}

int supnorm_deadline_reached(void)
{
    return atomic_load(&deadline_reached);
}

void supnorm_opts_default(supnorm_opts_t *o)
{
    o->rel_tol = 1e-6;
    o->abs_tol = 0.0;
    o->taylor_order = 0;
    o->max_boxes = 200000;
    o->initial_boxes = 64;
    o->deadline = default_deadline;
}

void supnorm_init(supnorm_t *s, mpfr_prec_t prec)
{
    arb_init(s->sup);
    mpfr_init2(s->argmax, prec);
    mpfr_set_zero(s->argmax, 1);
    s->boxes = 0;
    s->converged = 0;
    s->at_floor = 0;
}

void supnorm_clear(supnorm_t *s)
{
    arb_clear(s->sup);
    mpfr_clear(s->argmax);
}

typedef struct {
    mpfr_t lo, hi; /* the box */
    mpfr_t ub;     /* upper bound of |f - g| on it, rounded up; +inf if unknown */
} box_t;

/* Max-heap of boxes by ub. */
typedef struct {
    box_t **b;
    long n, cap;
} heap_t;

static int heap_push(heap_t *h, box_t *x)
{
    if (h->n == h->cap) {
        long cap = h->cap ? 2 * h->cap : 256;
        box_t **nb = realloc(h->b, (size_t)cap * sizeof *nb);
        if (!nb)
            return -1;
        h->b = nb;
        h->cap = cap;
    }
    long i = h->n++;
    h->b[i] = x;
    while (i > 0) {
        long p = (i - 1) / 2;
        if (mpfr_cmp(h->b[p]->ub, h->b[i]->ub) >= 0)
            break;
        box_t *t = h->b[p];
        h->b[p] = h->b[i];
        h->b[i] = t;
        i = p;
    }
    return 0;
}

static box_t *heap_pop(heap_t *h)
{
    box_t *top = h->b[0];
    h->b[0] = h->b[--h->n];
    long i = 0;
    for (;;) {
        long l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && mpfr_cmp(h->b[l]->ub, h->b[m]->ub) > 0)
            m = l;
        if (r < h->n && mpfr_cmp(h->b[r]->ub, h->b[m]->ub) > 0)
            m = r;
        if (m == i)
            break;
        box_t *t = h->b[m];
        h->b[m] = h->b[i];
        h->b[i] = t;
        i = m;
    }
    return top;
}

static void box_free(box_t *x)
{
    mpfr_clear(x->lo);
    mpfr_clear(x->hi);
    mpfr_clear(x->ub);
    free(x);
}

typedef struct {
    const act_t *f, *g;
    arb_t x, fx, gx;    /* scratch */
    mpfr_prec_t prec;   /* of the evaluations */
    int taylor;         /* order of the Taylor bound, 0: none */
    mpfr_t best_lo;     /* the largest certified lower bound so far */
    mpfr_t *argmax;
    long evals;
} bb_t;

/* d = f(x) - g(x) over the box in bb->x (deriv: f' - g'), an enclosure. */
static void eval_diff(bb_t *bb, arb_t d, int deriv)
{
    ival_act_fn fn = deriv ? act_eval_dival : act_eval_ival;
    fn(bb->fx, bb->x, bb->f, bb->prec);
    if (bb->g) {
        fn(bb->gx, bb->x, bb->g, bb->prec);
        arb_sub(d, bb->fx, bb->gx, bb->prec);
    } else {
        arb_set(d, bb->fx);
    }
    if (!arb_is_finite(d))
        arb_indeterminate(d);
}

static void eval_gap(bb_t *bb, arb_t d)
{
    eval_diff(bb, d, 0);
    ival_abs(d, d, bb->prec);
}

/* The upper end of d rounded up into u (+inf when d is not finite). */
static void upper_end(mpfr_t u, const arb_t d)
{
    ival_get_hi(u, d);
    if (!arb_is_finite(d) || mpfr_nan_p(u))
        mpfr_set_inf(u, 1);
}

/* Raise the lower bound with the value at the point t. */
static void probe_point(bb_t *bb, const mpfr_t t)
{
    arb_t d;
    mpfr_t lo;
    arb_init(d);
    mpfr_init2(lo, mpfr_get_prec(bb->best_lo));
    ival_set_interval_fr(bb->x, t, t, mpfr_get_prec(t)); /* exact: a point */
    eval_gap(bb, d);
    /* A non-finite enclosure says nothing; the lower end of a finite one is
     * a value of |f - g| at t rounded down, so a lower bound of the sup. */
    ival_get_lo(lo, d);
    if (arb_is_finite(d) && mpfr_greater_p(lo, bb->best_lo)) {
        mpfr_set(bb->best_lo, lo, MPFR_RNDD);
        mpfr_set(*bb->argmax, t, MPFR_RNDN);
    }
    mpfr_clear(lo);
    arb_clear(d);
}

/* c[0..len) = Taylor coefficients of f - g at the ball bb->x. */
static void diff_series(bb_t *bb, arb_ptr c, slong len)
{
    act_eval_series(c, bb->f, bb->x, len, bb->prec);
    if (bb->g) {
        arb_ptr t = _arb_vec_init(len);
        act_eval_series(t, bb->g, bb->x, len, bb->prec);
        _arb_vec_sub(c, c, t, len, bb->prec);
        _arb_vec_clear(t, len);
    }
}

/* The Taylor bound of |f - g| over [lo, hi] (midpoint m), rounded up into
 * u; 0, or -1 when a series is not finite there (a kink, a pole). */
static int taylor_bound(bb_t *bb, mpfr_t u, const mpfr_t lo, const mpfr_t hi, const mpfr_t m)
{
    slong N = bb->taylor;
    arb_ptr cm = _arb_vec_init(N + 1), cb = _arb_vec_init(N + 1);
    ival_set_interval_fr(bb->x, m, m, mpfr_get_prec(m)); /* exact: a point */
    diff_series(bb, cm, N);
    ival_set_interval_fr(bb->x, lo, hi, mpfr_get_prec(lo));
    diff_series(bb, cb, N + 1);
    int ok = arb_is_finite(cm) && arb_is_finite(cb);
    if (ok) {
        /* r = max |t - m| over the box, rounded up (m is the rounded midpoint);
         * the bound is sum_{k<N} |cm_k| r^k + |cb_N| r^N */
        mpfr_t r, r2;
        mpfr_init2(r, 64);
        mpfr_init2(r2, 64);
        mpfr_sub(r, hi, m, MPFR_RNDU);
        mpfr_sub(r2, m, lo, MPFR_RNDU);
        mpfr_max(r, r, r2, MPFR_RNDU);
        mpfr_clear(r2);
        arb_t rr, pw, acc, t;
        arb_init(rr);
        arb_init(pw);
        arb_init(acc);
        arb_init(t);
        ival_set_fr(rr, r);
        arb_one(pw);
        arb_zero(acc);
        for (slong k = 0; k <= N; k++) {
            ival_abs(t, k < N ? cm + k : cb + N, bb->prec);
            arb_mul(t, t, pw, bb->prec);
            arb_add(acc, acc, t, bb->prec);
            arb_mul(pw, pw, rr, bb->prec);
        }
        upper_end(u, acc);
        ok = arb_is_finite(acc);
        arb_clear(rr);
        arb_clear(pw);
        arb_clear(acc);
        arb_clear(t);
        mpfr_clear(r);
    }
    _arb_vec_clear(cm, N + 1);
    _arb_vec_clear(cb, N + 1);
    return ok ? 0 : -1;
}

/* A new box [lo, hi] with its upper bound; its midpoint probed. */
static box_t *box_new(bb_t *bb, const mpfr_t lo, const mpfr_t hi, mpfr_prec_t prec)
{
    box_t *x = malloc(sizeof *x);
    if (!x)
        return NULL;
    mpfr_init2(x->lo, mpfr_get_prec(lo));
    mpfr_init2(x->hi, mpfr_get_prec(hi));
    mpfr_init2(x->ub, prec);
    mpfr_set(x->lo, lo, MPFR_RNDN); /* exact: same precision */
    mpfr_set(x->hi, hi, MPFR_RNDN);
    arb_t d, p, dx;
    mpfr_t u;
    arb_init(d);
    arb_init(p);
    arb_init(dx);
    mpfr_init2(u, prec);
    ival_set_interval_fr(bb->x, lo, hi, mpfr_get_prec(lo)); /* the ball around the box */
    eval_gap(bb, d);
    upper_end(x->ub, d); /* +inf: cannot certify here */
    bb->evals++;

    /* Mean-value form: (f-g)(t) lies in (f-g)(m) + (f'-g')(B) (t - m). */
    eval_diff(bb, d, 1);
    mpfr_t m;
    mpfr_init2(m, mpfr_get_prec(lo));
    mpfr_add(m, lo, hi, MPFR_RNDN);
    mpfr_div_2ui(m, m, 1, MPFR_RNDN);
    if (arb_is_finite(d)) {
        arf_t ma;
        arf_init(ma);
        arf_set_mpfr(ma, m);
        ival_set_interval_fr(dx, lo, hi, prec);
        arb_sub_arf(dx, dx, ma, prec); /* B - m, rounded outward */
        arf_clear(ma);
        arb_mul(d, d, dx, prec);
        ival_set_interval_fr(bb->x, m, m, mpfr_get_prec(m)); /* exact: a point */
        eval_diff(bb, p, 0);
        arb_add(d, d, p, prec);
        ival_abs(d, d, prec);
        upper_end(u, d);
        if (arb_is_finite(d) && mpfr_less_p(u, x->ub))
            mpfr_set(x->ub, u, MPFR_RNDU);
    }
    if (bb->taylor > 0 && taylor_bound(bb, u, lo, hi, m) == 0 && mpfr_less_p(u, x->ub))
        mpfr_set(x->ub, u, MPFR_RNDU);
    arb_clear(d);
    arb_clear(p);
    arb_clear(dx);
    mpfr_clear(u);

    probe_point(bb, m);
    mpfr_clear(m);
    return x;
}

/* 1 when hi <= abs_tol or hi - lo <= rel_tol * hi. */
static int gap_small(const mpfr_t lo, const mpfr_t hi, const supnorm_opts_t *o)
{
    if (!mpfr_number_p(hi) || !mpfr_number_p(lo)) /* inf or NaN: not converged */
        return 0;
    if (o->abs_tol > 0 && mpfr_cmp_d(hi, o->abs_tol) <= 0)
        return 1;
    mpfr_t diff, rhs;
    mpfr_init2(diff, 64);
    mpfr_init2(rhs, 64);
    mpfr_sub(diff, hi, lo, MPFR_RNDU);
    mpfr_mul_d(rhs, hi, o->rel_tol, MPFR_RNDD);
    int small = mpfr_lessequal_p(diff, rhs);
    mpfr_clear(diff);
    mpfr_clear(rhs);
    return small;
}

int supnorm_diff_on(supnorm_t *s, const act_t *f, const act_t *g,
                    const mpfr_t a, const mpfr_t b, const supnorm_opts_t *o, mpfr_prec_t prec)
{
    if (!mpfr_number_p(a) || !mpfr_number_p(b) || mpfr_greater_p(a, b))
        return -1;
    supnorm_opts_t dflt;
    if (!o) {
        supnorm_opts_default(&dflt);
        o = &dflt;
    }
    /* Box ends carry enough bits to hold a and b and to be bisected far. */
    mpfr_prec_t bprec = prec;
    if (mpfr_get_prec(a) > bprec) bprec = mpfr_get_prec(a);
    if (mpfr_get_prec(b) > bprec) bprec = mpfr_get_prec(b);

    bb_t bb;
    bb.f = f;
    bb.g = g;
    bb.evals = 0;
    arb_init(bb.x);
    arb_init(bb.fx);
    arb_init(bb.gx);
    bb.prec = prec;
    bb.taylor = o->taylor_order > 0 ? o->taylor_order : 0;
    s->at_floor = 0;
    mpfr_init2(bb.best_lo, prec);
    mpfr_set_zero(bb.best_lo, 1); /* |f - g| >= 0 */
    mpfr_set_prec(s->argmax, bprec);
    mpfr_set(s->argmax, a, MPFR_RNDN);
    bb.argmax = &s->argmax;

    heap_t heap = {NULL, 0, 0};
    mpfr_t lo, hi, mid, hi_bound, stuck;
    mpfr_init2(lo, bprec);
    mpfr_init2(hi, bprec);
    mpfr_init2(mid, bprec);
    mpfr_init2(hi_bound, prec);
    mpfr_init2(stuck, prec);
    mpfr_set_zero(stuck, 1); /* largest ub of boxes too narrow to split */
    int failed = 0;

    probe_point(&bb, a);
    probe_point(&bb, b);
    long n0 = o->initial_boxes > 0 ? o->initial_boxes : 1;
    if (mpfr_equal_p(a, b))
        n0 = 1;
    /* Uniform split; the ends are rounded, but consecutive boxes share them,
     * so the boxes still cover [a, b]. */
    mpfr_set(lo, a, MPFR_RNDN);
    for (long k = 1; k <= n0 && !failed; k++) {
        if (k == n0) {
            mpfr_set(hi, b, MPFR_RNDN);
        } else {
            mpfr_sub(hi, b, a, MPFR_RNDN);
            mpfr_mul_si(hi, hi, k, MPFR_RNDN);
            mpfr_div_si(hi, hi, n0, MPFR_RNDN);
            mpfr_add(hi, hi, a, MPFR_RNDN);
            if (mpfr_less_p(hi, lo))
                mpfr_set(hi, lo, MPFR_RNDN);
        }
        box_t *x = box_new(&bb, lo, hi, prec);
        if (!x || heap_push(&heap, x) != 0) {
            if (x)
                box_free(x);
            failed = 1;
        }
        mpfr_set(lo, hi, MPFR_RNDN);
    }

    int converged = 0;
    while (!failed) {
        /* hi_bound = max(best_lo, stuck, largest ub in the heap). */
        mpfr_max(hi_bound, bb.best_lo, stuck, MPFR_RNDU);
        if (heap.n > 0 && mpfr_cmp(heap.b[0]->ub, hi_bound) > 0)
            mpfr_set(hi_bound, heap.b[0]->ub, MPFR_RNDU);
        if (gap_small(bb.best_lo, hi_bound, o)) {
            converged = 1;
            s->at_floor = o->abs_tol > 0 && mpfr_cmp_d(hi_bound, o->abs_tol) <= 0;
            break;
        }
        if (heap.n == 0 || bb.evals >= o->max_boxes)
            break;
        if (o->deadline > 0 && monotonic_seconds() >= o->deadline) {
            atomic_store(&deadline_reached, 1);
            break;
        }
        box_t *x = heap_pop(&heap);
        if (mpfr_cmp(x->ub, bb.best_lo) <= 0) {
            box_free(x); /* cannot hold a larger value */
            continue;
        }
        mpfr_add(mid, x->lo, x->hi, MPFR_RNDN);
        mpfr_div_2ui(mid, mid, 1, MPFR_RNDN);
        if (!mpfr_less_p(x->lo, mid) || !mpfr_less_p(mid, x->hi)) {
            mpfr_max(stuck, stuck, x->ub, MPFR_RNDU); /* too narrow to split */
            if (mpfr_inf_p(stuck)) {
                /* unbounded (a pole) or undefined here: no finite sup */
                mpfr_set(s->argmax, x->lo, MPFR_RNDN);
                mpfr_set_inf(hi_bound, 1);
                box_free(x);
                break;
            }
            box_free(x);
            continue;
        }
        box_t *left = box_new(&bb, x->lo, mid, prec);
        box_t *right = box_new(&bb, mid, x->hi, prec);
        box_free(x);
        box_t *halves[2] = {left, right};
        for (int k = 0; k < 2; k++) {
            if (!halves[k]) {
                failed = 1;
                continue;
            }
            if (failed || mpfr_cmp(halves[k]->ub, bb.best_lo) <= 0) {
                box_free(halves[k]); /* dropped: its sup is at most best_lo */
                continue;
            }
            if (heap_push(&heap, halves[k]) != 0) {
                box_free(halves[k]);
                failed = 1;
            }
        }
    }
    if (failed)
        mpfr_set_inf(hi_bound, 1); /* out of memory: only the lower end is known */

    /* [best_lo, hi_bound] as a ball; an infinite hi_bound gives a
     * non-finite ball (a ball cannot hold [lo, +inf]) */
    ival_set_interval_fr(s->sup, bb.best_lo, hi_bound, prec);
    s->boxes = bb.evals;
    s->converged = converged;

    while (heap.n > 0)
        box_free(heap_pop(&heap));
    free(heap.b);
    arb_clear(bb.x);
    arb_clear(bb.fx);
    arb_clear(bb.gx);
    mpfr_clear(bb.best_lo);
    mpfr_clear(lo);
    mpfr_clear(hi);
    mpfr_clear(mid);
    mpfr_clear(hi_bound);
    mpfr_clear(stuck);
    return converged ? 0 : 1;
}

int supnorm_diff(supnorm_t *s, const act_t *f, const act_t *g, const mpfr_t L,
                 const supnorm_opts_t *o, mpfr_prec_t prec)
{
    if (!mpfr_number_p(L) || mpfr_sgn(L) < 0)
        return -1;
    mpfr_t a;
    mpfr_init2(a, mpfr_get_prec(L));
    mpfr_neg(a, L, MPFR_RNDN); /* exact */
    int r = supnorm_diff_on(s, f, g, a, L, o, prec);
    mpfr_clear(a);
    return r;
}

int supnorm_gap(arb_t sup, mpfr_t argmax, long *boxes, const act_t *f, const act_t *g,
                double L, double rel_tol, mpfr_prec_t prec)
{
    supnorm_opts_t o;
    supnorm_opts_default(&o);
    o.rel_tol = rel_tol;
    supnorm_t s;
    supnorm_init(&s, prec);
    mpfr_t Lf;
    mpfr_init2(Lf, 64);
    mpfr_set_d(Lf, L, MPFR_RNDU);
    int rc = supnorm_diff(&s, f, g, Lf, &o, prec);
    arb_set(sup, s.sup);
    if (argmax) {
        mpfr_set_prec(argmax, mpfr_get_prec(s.argmax));
        mpfr_set(argmax, s.argmax, MPFR_RNDN);
    }
    if (boxes)
        *boxes = s.boxes;
    mpfr_clear(Lf);
    supnorm_clear(&s);
    return rc;
}

