/* The registry of built-in activations: one row per activation holding all
 * that is known of it, read by everything that knows the built-ins: its ball
 * and double evaluations (act.c), its formula as a built-in function of the
 * expression language (expr.c), its membership facts for the class report
 * (actclass.c) and its line of the regression baseline.  Adding an
 * activation is adding a row (act.c). */
#ifndef ATTNCHECK_ACTREG_H
#define ATTNCHECK_ACTREG_H

#include "mlp.h"

/* Parameters of a class member (actclass.h's AC_NPAR, in its order):
 * g g0 al a0 be be0 c. */
#define ACT_MEMBER_NPAR 7

typedef struct {
    const char *name;          /* "gelu" */
    const char *formula;       /* one line, for reports */
    /* its formula in the expression language, x the argument and _a the
     * parameter (1 when left out); NULL where the name is a function of the
     * language itself (sigmoid, tanh, softplus) */
    const char *expr;
    ival_act_fn ival;          /* certified: encloses phi over the argument ball */
    const char *param_name;    /* "a" (silu_a), "alpha" (elu), or NULL */
    const char *param_default; /* decimal text of the default */
    double (*eval_d)(double x, double param); /* fast double value */
    /* class facts (G0, G1): a witness member, exact, from the smallest class
     * witness_cls that has one (-1: none); parameters as text, "A" for the
     * activation's parameter */
    int witness_cls;
    const char *witness_show;
    const char *witness_par[ACT_MEMBER_NPAR];
    /* a proof of non-membership in classes nonmember_cls and below (-1: none) */
    int nonmember_cls;
    const char *nonmember_why;
    /* the parameter the baseline pins (NULL: the default, or none) */
    const char *baseline_param;
} act_info_t;

extern const act_info_t act_builtins[];
extern const int act_n_builtins;

/* The registry entry of a built-in name, or NULL. */
const act_info_t *act_find(const char *name);

#endif
