/* Recursive-descent parser and the evaluator of the --expr language (expr.h):
 * one walk over the tree, its mode (ball, derivative, Taylor series, point)
 * a parameter.
 * The parser never recurses more than EXPR_MAX_DEPTH levels of `unary`, the
 * one rule every cycle of the grammar passes through, and reads at most
 * EXPR_MAX_LEN bytes, so it always stops. */
#include "expr.h"
#include "actreg.h"
#include "special.h"
#include "imat.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    NODE_NUM, NODE_VAR, NODE_PI, NODE_E, NODE_NEG,
    NODE_ADD, NODE_SUB, NODE_MUL, NODE_DIV, NODE_POW,
    NODE_MIN, NODE_MAX, NODE_FN,
    NODE_ARG2             /* a built-in's second argument, in its template only */
} node_kind_t;

typedef enum {
    FN_EXP, FN_LOG, FN_LOG1P, FN_EXPM1, FN_SQRT, FN_ABS, FN_TANH,
    FN_SIGMOID, FN_ERF, FN_ERFC, FN_SOFTPLUS, FN_SIN, FN_COS
} fn_t;

static const char *const fn_names[] = {
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "tanh",
    "sigmoid", "erf", "erfc", "softplus", "sin", "cos"
};
#define N_FN ((int)(sizeof fn_names / sizeof fn_names[0]))

/* The built-in activations as functions of the language are the rows of
 * the registry (actreg.h) with a formula in the language (x the first
 * argument, _a the second, 1 when left out), expanded in place where they
 * are called.  act.c evaluates the same names with their own ball routines;
 * tests compare the two. */

typedef struct node {
    node_kind_t kind;
    fn_t fn;
    char *num;            /* NODE_NUM: the literal's text */
    int typed;            /* NODE_NUM: written by the user (not a built-in's constant) */
    struct node *a, *b;
} node_t;

struct expr {
    node_t *root;
    char *text;
};

/* ------------------------------------------------------------------ parser */

typedef struct {
    const char *s;
    size_t len, i;
    int depth;
    char *err;
    size_t errsz;
    int failed;
    long *nodes;          /* nodes made so far (shared with template parsers) */
    int template;         /* parsing a built-in's formula: _a allowed */
} parser_t;

static void fail_at(parser_t *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->err || p->errsz == 0)
        return;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errsz, "expression: %s at position %zu%s", what, at + 1,
             at >= p->len ? " (end of input)" : "");
}

static void skip_space(parser_t *p)
{
    while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
                             p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* Describe the token at position at for an error message. */
static void describe(const parser_t *p, size_t at, char *buf, size_t n)
{
    if (at >= p->len) {
        snprintf(buf, n, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->s[at];
    if (isalpha(c) || c == '_') {
        size_t j = at;
        while (j < p->len && j - at < 24 &&
               (isalnum((unsigned char)p->s[j]) || p->s[j] == '_'))
            j++;
        snprintf(buf, n, "'%.*s'", (int)(j - at), p->s + at);
    } else if (isprint(c)) {
        snprintf(buf, n, "'%c'", c);
    } else {
        snprintf(buf, n, "byte 0x%02x", c);
    }
}

static node_t *node_new(parser_t *p, node_kind_t k, node_t *a, node_t *b)
{
    if (++*p->nodes > EXPR_MAX_NODES) {
        fail_at(p, p->i, "more than %d operations (built-ins count as their formulas)",
                EXPR_MAX_NODES);
        return NULL;
    }
    node_t *n = xcalloc(1, sizeof *n);
    if (!n) {
        fail_at(p, p->i, "out of memory");
        return NULL;
    }
    n->kind = k;
    n->a = a;
    n->b = b;
    return n;
}

static void node_free(node_t *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    free(n->num);
    free(n);
}

static node_t *parse_expr(parser_t *p);
static node_t *parse_unary(parser_t *p);

/* A copy of t with NODE_VAR replaced by a copy of arg1 and NODE_ARG2 by a
 * copy of arg2 (the number 1 when arg2 is NULL); with arg1 NULL, a plain
 * copy.  NULL on failure (the parser says why). */
static node_t *node_copy_subst(parser_t *p, const node_t *t, const node_t *arg1,
                               const node_t *arg2)
{
    if (arg1 && t->kind == NODE_VAR)
        return node_copy_subst(p, arg1, NULL, NULL);
    if (arg1 && t->kind == NODE_ARG2 && arg2)
        return node_copy_subst(p, arg2, NULL, NULL);
    node_t *n = node_new(p, t->kind == NODE_ARG2 ? NODE_NUM : t->kind, NULL, NULL);
    if (!n)
        return NULL;
    n->fn = t->fn;
    n->typed = t->typed;
    if (t->kind == NODE_ARG2 || t->num) {
        n->num = xstrdup(t->kind == NODE_ARG2 ? "1" : t->num);
        if (!n->num) {
            free(n);
            fail_at(p, p->i, "out of memory");
            return NULL;
        }
    }
    if ((t->a && !(n->a = node_copy_subst(p, t->a, arg1, arg2))) ||
        (t->b && !(n->b = node_copy_subst(p, t->b, arg1, arg2)))) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* Functions of the language that are formulas but no built-in activation
 * of the registry (no ball routine of their own): SELU with PyTorch's
 * constants (Klambauer et al.'s lambda and alpha to 32 digits). */
static const struct {
    const char *name, *expr;
} expr_formulas[] = {
    {"selu", "1.0507009873554804934193349852946*(max(x, 0) + "
             "1.6732632423543772848170429916717*min(expm1(x), 0))"},
};
#define N_FORMULAS ((int)(sizeof expr_formulas / sizeof expr_formulas[0]))

/* Built-in bi (or formula -1 - bi) applied to a (and b): its formula with a
 * for x and b for _a. */
static node_t *expand_builtin(parser_t *p, int bi, const node_t *a, const node_t *b)
{
    parser_t t = {0};
    t.s = bi >= 0 ? act_builtins[bi].expr : expr_formulas[-1 - bi].expr;
    t.len = strlen(t.s);
    t.err = NULL;
    t.nodes = p->nodes;
    t.template = 1;
    node_t *tree = parse_expr(&t); /* a fixed formula: it parses */
    if (!tree) {
        if (*p->nodes > EXPR_MAX_NODES)
            fail_at(p, p->i, "more than %d operations (built-ins count as their formulas)",
                    EXPR_MAX_NODES);
        else
            fail_at(p, p->i, "internal error in the built-in %s",
                    bi >= 0 ? act_builtins[bi].name : expr_formulas[-1 - bi].name);
        return NULL;
    }
    node_t *n = node_copy_subst(p, tree, a, b);
    node_free(tree);
    return n;
}

static int expect(parser_t *p, char c)
{
    skip_space(p);
    if (p->i < p->len && p->s[p->i] == c) {
        p->i++;
        return 1;
    }
    char found[48];
    describe(p, p->i, found, sizeof found);
    if (p->i >= p->len)
        fail_at(p, p->i, "expected '%c'", c);
    else
        fail_at(p, p->i, "expected '%c', found %s", c, found);
    return 0;
}

/* Longest exponent (in decimal digits, leading zeros aside) a literal may
 * carry: larger ones only overflow or underflow. */
#define EXPR_MAX_EXP_DIGITS 7

static node_t *parse_number(parser_t *p)
{
    size_t start = p->i, j = p->i;
    size_t int_digits = 0, frac_digits = 0;
    while (j < p->len && isdigit((unsigned char)p->s[j]))
        j++, int_digits++;
    if (j < p->len && p->s[j] == '.') {
        j++;
        while (j < p->len && isdigit((unsigned char)p->s[j]))
            j++, frac_digits++;
    }
    if (int_digits + frac_digits == 0) {
        fail_at(p, start, "malformed number");
        return NULL;
    }
    /* An exponent only when digits follow: "2e" is 2 then the name e. */
    if (j < p->len && (p->s[j] == 'e' || p->s[j] == 'E')) {
        size_t k = j + 1;
        if (k < p->len && (p->s[k] == '+' || p->s[k] == '-'))
            k++;
        if (k < p->len && isdigit((unsigned char)p->s[k])) {
            size_t sig = 0;
            while (k < p->len && p->s[k] == '0')
                k++;
            while (k < p->len && isdigit((unsigned char)p->s[k]))
                k++, sig++;
            if (sig > EXPR_MAX_EXP_DIGITS) {
                fail_at(p, j, "exponent of number out of range");
                return NULL;
            }
            j = k;
        }
    }
    node_t *n = node_new(p, NODE_NUM, NULL, NULL);
    if (!n)
        return NULL;
    n->num = xmalloc(j - start + 1);
    if (!n->num) {
        free(n);
        fail_at(p, start, "out of memory");
        return NULL;
    }
    memcpy(n->num, p->s + start, j - start);
    n->num[j - start] = '\0';
    n->typed = !p->template;
    p->i = j;
    return n;
}

static node_t *parse_primary(parser_t *p)
{
    skip_space(p);
    size_t at = p->i;
    if (at >= p->len) {
        fail_at(p, at, "expected an operand");
        return NULL;
    }
    unsigned char c = (unsigned char)p->s[at];
    if (isdigit(c) || c == '.')
        return parse_number(p);
    if (c == '(') {
        p->i++;
        node_t *n = parse_expr(p);
        if (!n)
            return NULL;
        if (!expect(p, ')')) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (isalpha(c) || c == '_') {
        size_t j = at;
        while (j < p->len && (isalnum((unsigned char)p->s[j]) || p->s[j] == '_'))
            j++;
        size_t n_len = j - at;
        const char *name = p->s + at;
#define NAME_IS(lit) (n_len == sizeof(lit) - 1 && memcmp(name, lit, n_len) == 0)
        p->i = j;
        if (NAME_IS("x") || NAME_IS("z"))
            return node_new(p, NODE_VAR, NULL, NULL);
        if (NAME_IS("pi"))
            return node_new(p, NODE_PI, NULL, NULL);
        if (NAME_IS("e"))
            return node_new(p, NODE_E, NULL, NULL);
        if (p->template && NAME_IS("_a"))
            return node_new(p, NODE_ARG2, NULL, NULL);
        int is_min = NAME_IS("min"), is_max = NAME_IS("max"), fn = -1, bi = -1, fo = -1;
        for (int k = 0; k < N_FN && !is_min && !is_max; k++)
            if (n_len == strlen(fn_names[k]) && memcmp(name, fn_names[k], n_len) == 0)
                fn = k;
        for (int k = 0; k < act_n_builtins && fn < 0 && !is_min && !is_max; k++)
            if (act_builtins[k].expr && n_len == strlen(act_builtins[k].name) &&
                memcmp(name, act_builtins[k].name, n_len) == 0)
                bi = k;
        for (int k = 0; k < N_FORMULAS && fn < 0 && bi < 0 && !is_min && !is_max; k++)
            if (n_len == strlen(expr_formulas[k].name) &&
                memcmp(name, expr_formulas[k].name, n_len) == 0)
                fo = k;
#undef NAME_IS
        if (fn < 0 && bi < 0 && fo < 0 && !is_min && !is_max) {
            fail_at(p, at, "unknown name '%.*s'", (int)(n_len > 24 ? 24 : n_len), name);
            return NULL;
        }
        skip_space(p);
        if (p->i >= p->len || p->s[p->i] != '(') {
            fail_at(p, p->i, "expected '(' after '%.*s'", (int)n_len, name);
            return NULL;
        }
        p->i++;
        node_t *a = parse_expr(p);
        if (!a)
            return NULL;
        node_t *b = NULL;
        skip_space(p);
        if (is_min || is_max ||
            (bi >= 0 && act_builtins[bi].param_name && p->i < p->len && p->s[p->i] == ',')) {
            if (!expect(p, ',')) {
                node_free(a);
                return NULL;
            }
            b = parse_expr(p);
            if (!b) {
                node_free(a);
                return NULL;
            }
        }
        if (!expect(p, ')')) {
            node_free(a);
            node_free(b);
            return NULL;
        }
        if (bi >= 0 || fo >= 0) {
            node_t *n = expand_builtin(p, bi >= 0 ? bi : -1 - fo, a, b);
            node_free(a);
            node_free(b);
            return n;
        }
        node_t *n = node_new(p, is_min ? NODE_MIN : is_max ? NODE_MAX : NODE_FN, a, b);
        if (!n) {
            node_free(a);
            node_free(b);
            return NULL;
        }
        if (fn >= 0)
            n->fn = (fn_t)fn;
        return n;
    }
    char found[48];
    describe(p, at, found, sizeof found);
    fail_at(p, at, "expected an operand, found %s", found);
    return NULL;
}

static node_t *parse_power(parser_t *p)
{
    node_t *base = parse_primary(p);
    if (!base)
        return NULL;
    skip_space(p);
    int caret = p->i < p->len && p->s[p->i] == '^';
    int stars = p->i + 1 < p->len && p->s[p->i] == '*' && p->s[p->i + 1] == '*';
    if (caret || stars) {
        p->i += stars ? 2 : 1;
        node_t *ex = parse_unary(p); /* right associative through unary */
        if (!ex) {
            node_free(base);
            return NULL;
        }
        node_t *n = node_new(p, NODE_POW, base, ex);
        if (!n) {
            node_free(base);
            node_free(ex);
        }
        return n;
    }
    return base;
}

static node_t *parse_unary(parser_t *p)
{
    skip_space(p);
    if (p->depth >= EXPR_MAX_DEPTH) {
        fail_at(p, p->i, "nested deeper than %d levels", EXPR_MAX_DEPTH);
        return NULL;
    }
    p->depth++;
    node_t *n;
    if (p->i < p->len && (p->s[p->i] == '-' || p->s[p->i] == '+')) {
        int neg = p->s[p->i] == '-';
        p->i++;
        node_t *a = parse_unary(p);
        if (!a || !neg) {
            n = a;
        } else {
            n = node_new(p, NODE_NEG, a, NULL);
            if (!n)
                node_free(a);
        }
    } else {
        n = parse_power(p);
    }
    p->depth--;
    return n;
}

/* A left-associative level: next (op next)*, op one of two characters. */
static node_t *parse_left_assoc(parser_t *p, node_t *(*next)(parser_t *), char op1,
                                node_kind_t k1, char op2, node_kind_t k2)
{
    node_t *left = next(p);
    while (left) {
        skip_space(p);
        if (p->i >= p->len || (p->s[p->i] != op1 && p->s[p->i] != op2))
            break;
        node_kind_t k = p->s[p->i] == op1 ? k1 : k2;
        p->i++;
        node_t *right = next(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        node_t *n = node_new(p, k, left, right);
        if (!n) {
            node_free(left);
            node_free(right);
        }
        left = n;
    }
    return left;
}

static node_t *parse_term(parser_t *p)
{
    return parse_left_assoc(p, parse_unary, '*', NODE_MUL, '/', NODE_DIV);
}

static node_t *parse_expr(parser_t *p)
{
    return parse_left_assoc(p, parse_term, '+', NODE_ADD, '-', NODE_SUB);
}

expr_t *expr_parse(const char *text, char *err, size_t errsz)
{
    parser_t p = {0};
    long nodes = 0;
    p.nodes = &nodes;
    p.err = err;
    p.errsz = errsz;
    if (err && errsz)
        err[0] = '\0';
    if (!text) {
        if (err && errsz)
            snprintf(err, errsz, "expression: missing");
        return NULL;
    }
    p.s = text;
    p.len = strnlen(text, EXPR_MAX_LEN + 1);
    if (p.len > EXPR_MAX_LEN) {
        if (err && errsz)
            snprintf(err, errsz, "expression: longer than %d bytes", EXPR_MAX_LEN);
        return NULL;
    }
    node_t *root = parse_expr(&p);
    if (root) {
        skip_space(&p);
        if (p.i < p.len) {
            char found[48];
            describe(&p, p.i, found, sizeof found);
            if (p.s[p.i] == ')')
                fail_at(&p, p.i, "unbalanced ')'");
            else
                fail_at(&p, p.i, "expected an operator, found %s", found);
            node_free(root);
            return NULL;
        }
    }
    if (!root)
        return NULL;
    expr_t *e = xmalloc(sizeof *e);
    char *copy = xmalloc(p.len + 1);
    if (!e || !copy) {
        free(e);
        free(copy);
        node_free(root);
        if (err && errsz)
            snprintf(err, errsz, "expression: out of memory");
        return NULL;
    }
    memcpy(copy, text, p.len);
    copy[p.len] = '\0';
    e->root = root;
    e->text = copy;
    return e;
}

void expr_free(expr_t *e)
{
    if (!e)
        return;
    node_free(e->root);
    free(e->text);
    free(e);
}

const char *expr_text(const expr_t *e)
{
    return e->text;
}

/* ------------------------------------------------------- ball helpers */

/* The ends of a finite ball, rounded outward at prec. */
static void ends(arf_t lo, arf_t hi, const arb_t a, mpfr_prec_t prec)
{
    arb_get_lbound_arf(lo, a, prec);
    arb_get_ubound_arf(hi, a, prec);
}

/* min or max of two enclosures, from their ends. */
static void ival_min2(arb_t r, const arb_t a, const arb_t b, int take_max, mpfr_prec_t prec)
{
    if (!arb_is_finite(a) || !arb_is_finite(b)) {
        arb_indeterminate(r);
        return;
    }
    if (take_max)
        arb_max(r, a, b, prec);
    else
        arb_min(r, a, b, prec);
}

/* a^y at the point t (ball t exact): 0^y = 0 for y > 0, +inf (unbounded)
 * for y < 0. */
static void pow_at(arb_t r, const arf_t t, const arb_t y, mpfr_prec_t prec)
{
    if (arf_is_zero(t)) {
        if (arb_is_positive(y))
            arb_zero(r);
        else
            arb_zero_pm_inf(r);
        return;
    }
    arb_t b;
    arb_init(b);
    arb_set_arf(b, t);
    arb_pow(r, b, y, prec);
    arb_clear(b);
}

/* r = hull(f(lo), f(hi)) for f(t) = t^y monotone on the ends of a (a >= 0
 * or y an odd integer). */
static void ival_pow_point(arb_t r, const arb_t a, const arb_t y, mpfr_prec_t prec)
{
    arf_t lo, hi;
    arb_t u;
    arf_init(lo);
    arf_init(hi);
    arb_init(u);
    ends(lo, hi, a, prec + 32);
    pow_at(r, lo, y, prec);
    pow_at(u, hi, y, prec);
    if (!arb_is_finite(r) || !arb_is_finite(u))
        arb_indeterminate(r);
    else
        arb_union(r, r, u, prec);
    arf_clear(lo);
    arf_clear(hi);
    arb_clear(u);
}

static void ball_exp(arb_t y, const arb_t x, slong prec);

/* r encloses a^b over the balls a and b. */
static void ival_pow(arb_t r, const arb_t a, const arb_t b, mpfr_prec_t prec)
{
    if (!arb_is_finite(a) || !arb_is_finite(b)) {
        arb_indeterminate(r);
        return;
    }
    slong n;
    if (arb_is_exact(b) && arf_is_int(arb_midref(b)) &&
        arf_cmpabs_2exp_si(arb_midref(b), 62) < 0) {
        n = arf_get_si(arb_midref(b), ARF_RND_NEAR);
        if (n == 0) {
            arb_one(r); /* x^0 = 1, also at 0 as in MPFR */
            return;
        }
        arb_t m, y;
        arb_init(m);
        arb_init(y);
        arb_set_si(y, n < 0 ? -n : n);
        if ((n < 0 ? -n : n) % 2 == 1) {
            ival_pow_point(m, a, y, prec); /* odd power: increasing on R */
        } else {
            arb_t ab;
            arb_init(ab);
            ival_abs(ab, a, prec + 32);
            ival_pow_point(m, ab, y, prec); /* even power: increasing in |x| */
            arb_clear(ab);
        }
        if (arb_is_finite(m) && (n % 2 == 0 || arb_is_nonnegative(a)))
            ival_abs(m, m, prec); /* >= 0: the hull of the ends may reach below 0 */
        if (n < 0) {
            if (arb_is_zero(m) || !arb_is_finite(m))
                arb_indeterminate(r); /* undefined at the point 0 */
            else if (arb_contains_zero(m))
                arb_zero_pm_inf(r);   /* 1/x^k near 0: unbounded */
            else
                arb_inv(r, m, prec);  /* monotone on each side of 0 */
        } else {
            arb_set(r, m);
        }
        arb_clear(m);
        arb_clear(y);
        return;
    }
    if (arb_is_negative(a) || !arb_is_nonnegative(a)) {
        arb_indeterminate(r); /* non-integer power of a negative number */
        return;
    }
    if (arb_is_exact(b)) {
        /* x^y on [0, inf): monotone for a fixed y, and >= 0 */
        ival_pow_point(r, a, b, prec);
        if (arb_is_finite(r))
            ival_abs(r, r, prec);
        return;
    }
    /* a^b = exp(b log a); log 0 = -inf: cannot certify. */
    arb_t t;
    arb_init(t);
    arb_log(t, a, prec);
    arb_mul(t, t, b, prec);
    if (!arb_is_finite(t))
        arb_indeterminate(r);
    else
        ball_exp(r, t, prec);
    arb_clear(t);
}

/* Beyond |t| = 2^EXPR_EXP_BIG_LOG2 an exponential is not bounded by a power
 * of two (its exponent would take more than that many bits): Arb's answer
 * stands (its own bound below 0, unbounded above 0). */
#define EXPR_EXP_BIG_LOG2 65536

/* e^t at the point t where Arb's arb_exp gives up (t far above 0): e^t =
 * 2^(t/log 2) <= 2^k, k the ceiling of the upper end of t/log 2, so y =
 * [0, 2^k], exactly a ball (midpoint and radius 2^(k-1)).  A lower end near
 * e^t is not kept: a ball [2^j, 2^k] with k - j huge would lose it anyway. */
static void exp_upper_pow2(arb_t y, const arb_t t, slong prec)
{
    if (arf_cmpabs_2exp_si(arb_midref(t), EXPR_EXP_BIG_LOG2) >= 0)
        return; /* y keeps Arb's own answer */
    arb_t u;
    arf_t hi;
    fmpz_t k;
    arb_init(u);
    arf_init(hi);
    fmpz_init(k);
    arb_const_log2(u, prec);
    arb_div(u, t, u, prec);
    arb_get_ubound_arf(hi, u, prec);
    arf_get_fmpz(k, hi, ARF_RND_CEIL);
    fmpz_sub_ui(k, k, 1);
    arf_one(arb_midref(y));
    arf_mul_2exp_fmpz(arb_midref(y), arb_midref(y), k); /* exact */
    mag_one(arb_radref(y));
    mag_mul_2exp_fmpz(arb_radref(y), arb_radref(y), k); /* exact */
    arb_clear(u);
    arf_clear(hi);
    fmpz_clear(k);
}

/* y = e^x over the ball x, finite for every finite x below the bound above:
 * where arb_exp overflows, e^t is increasing, so the hull of its ends. */
static void ball_exp(arb_t y, const arb_t x, slong prec)
{
    arb_t r;
    arb_init(r);
    arb_exp(r, x, prec); /* y may alias x */
    if (!arb_is_finite(r) && arb_is_finite(x)) {
        arb_t end;
        arb_init(end);
        int n_ends = arb_is_exact(x) ? 1 : 2; /* a union with itself would widen */
        for (int k = 0; k < n_ends; k++) {
            arb_t v;
            arb_init(v);
            if (k == 0)
                arb_get_lbound_arf(arb_midref(end), x, prec + 32);
            else
                arb_get_ubound_arf(arb_midref(end), x, prec + 32);
            mag_zero(arb_radref(end)); /* a point */
            arb_exp(v, end, prec);
            if (!arb_is_finite(v))
                exp_upper_pow2(v, end, prec);
            if (k == 0)
                arb_swap(r, v);
            else
                arb_union(r, r, v, prec); /* not finite when either end is not */
            arb_clear(v);
        }
        arb_clear(end);
    }
    arb_swap(y, r);
    arb_clear(r);
}

/* e^x - 1, through ball_exp where arb_expm1 overflows (no cancellation there). */
static void ball_expm1(arb_t y, const arb_t x, slong prec)
{
    arb_t r;
    arb_init(r);
    arb_expm1(r, x, prec); /* y may alias x */
    if (!arb_is_finite(r) && arb_is_finite(x)) {
        if (arb_is_nonnegative(x)) {
            exp_upper_pow2(r, x, prec); /* 0 <= e^x - 1 < e^x: the same [0, 2^k] */
        } else {
            ball_exp(r, x, prec);
            arb_sub_ui(r, r, 1, prec);
        }
    }
    arb_swap(y, r);
    arb_clear(r);
}

/* sigma(x) = 1/(1+exp(-x)): x occurs once, so the ball result is tight.  Far
 * below 0, where e^-x overflows, sigma = e^x/(1+e^x) with Arb's e^x, a ball
 * [0 +/- tiny]: sigma saturates towards 0 instead of failing. */
static void ival_sigmoid_expr(arb_t y, const arb_t x, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_neg(t, x);
    arb_exp(t, t, prec + 8);
    if (!arb_is_finite(t) && arb_is_negative(x)) {
        ball_exp(t, x, prec + 8);
        arb_add_ui(y, t, 1, prec + 8);
        arb_div(y, t, y, prec);
    } else {
        arb_add_ui(t, t, 1, prec + 8);
        arb_ui_div(y, 1, t, prec);
    }
    arb_clear(t);
}

/* --------------------------------------------- one walk, four evaluation modes */

/* Every evaluation is the one walk eval_node over the tree; the mode says
 * what a value is, and ev_ops below holds each mode's one-argument
 * functions and binary operators.  Leaves, negation, the order of the walk
 * and the rule for failures are written once, here.
 *   EV_BALL    f over the ball x: an enclosure                  (1 ball)
 *   EV_DUAL    value and derivative over x, forward mode        (2 balls)
 *   EV_SERIES  Taylor coefficients of f at x + t                (len balls)
 *   EV_POINT   f at a point, each operation rounded with rnd    (an MPFR number)
 * In the ball modes a value with any coefficient not finite has failed (it
 * is set all indeterminate) and every node above it fails: no bound is ever
 * built on one.  Point values are never checked (NaN and inf propagate). */
typedef enum { EV_BALL, EV_DUAL, EV_SERIES, EV_POINT } ev_mode_t;

typedef struct {
    ev_mode_t mode;
    slong len;          /* balls per value: 1, 2, or the series length */
    mpfr_prec_t prec;   /* working precision; EV_POINT: the values' precision */
    mpfr_rnd_t rnd;     /* EV_POINT */
    arb_srcptr x;       /* the variable as a value: [x], [x, 1], [x, 1, 0, ...] */
    mpfr_srcptr xp;     /* EV_POINT: the point */
    expr_ties_t *tc;    /* EV_SERIES: how ties of min, max and abs are decided, or NULL */
} ev_t;

typedef struct {
    arb_ptr c;          /* ball modes: len balls */
    mpfr_t p;           /* EV_POINT */
} val_t;

static void val_init(val_t *v, const ev_t *ev)
{
    if (ev->mode == EV_POINT)
        mpfr_init2(v->p, ev->prec);
    else
        v->c = _arb_vec_init(ev->len);
}

static void val_clear(val_t *v, const ev_t *ev)
{
    if (ev->mode == EV_POINT)
        mpfr_clear(v->p);
    else
        _arb_vec_clear(v->c, ev->len);
}

static void series_fail(arb_ptr y, slong len)
{
    for (slong k = 0; k < len; k++)
        arb_indeterminate(y + k);
}

static int series_ok(arb_srcptr y, slong len)
{
    for (slong k = 0; k < len; k++)
        if (!arb_is_finite(y + k))
            return 0;
    return 1;
}

static int val_ok(const val_t *v, const ev_t *ev)
{
    return ev->mode == EV_POINT || series_ok(v->c, ev->len);
}

static void val_fail(val_t *v, const ev_t *ev)
{
    if (ev->mode != EV_POINT)
        series_fail(v->c, ev->len);
}

/* ---- EV_BALL */

/* f(y) in place for the one-argument functions; not finite outside the domain. */
static void ball_fn(val_t *v, fn_t fn, const ev_t *ev)
{
    arb_ptr y = v->c;
    mpfr_prec_t prec = ev->prec;
    switch (fn) {
    /* monotone: wide balls by their ends (special_ival_monotone) */
    case FN_EXP: special_ival_monotone(y, y, ball_exp, prec); break;
    case FN_LOG: /* defined for y > 0 only */
        if (arb_is_positive(y))
            special_ival_monotone(y, y, arb_log, prec);
        else
            arb_indeterminate(y);
        break;
    case FN_LOG1P: { /* defined for y > -1 only */
        arb_t m1;
        arb_init(m1);
        arb_set_si(m1, -1);
        if (arb_gt(y, m1))
            special_ival_monotone(y, y, arb_log1p, prec);
        else
            arb_indeterminate(y);
        arb_clear(m1);
        break;
    }
    case FN_EXPM1: special_ival_monotone(y, y, ball_expm1, prec); break;
    case FN_SQRT:
        if (arb_is_nonnegative(y))
            special_ival_monotone(y, y, arb_sqrtpos, prec);
        else
            arb_indeterminate(y); /* partly below 0: undefined there */
        break;
    case FN_ABS: ival_abs(y, y, prec); break;
    case FN_TANH: special_ival_monotone(y, y, arb_tanh, prec); break;
    case FN_SIGMOID: special_ival_monotone(y, y, ival_sigmoid_expr, prec); break;
    case FN_ERF: special_ival_erf(y, y, prec); break;
    case FN_ERFC: special_ival_erfc(y, y, prec); break;
    case FN_SOFTPLUS: special_ival_softplus(y, y, prec); break;
    case FN_SIN: arb_sin(y, y, prec); break;
    case FN_COS: arb_cos(y, y, prec); break;
    }
}

static void ball_op2(val_t *va, node_kind_t op, const val_t *vb, const ev_t *ev)
{
    arb_ptr y = va->c;
    arb_srcptr b = vb->c;
    mpfr_prec_t prec = ev->prec;
    switch (op) {
    case NODE_ADD: arb_add(y, y, b, prec); break;
    case NODE_SUB: arb_sub(y, y, b, prec); break;
    case NODE_MUL: arb_mul(y, y, b, prec); break;
    case NODE_DIV:
        if (arb_is_zero(b) || arb_contains_zero(b))
            arb_indeterminate(y); /* the point 0, or unbounded near the pole */
        else
            arb_div(y, y, b, prec);
        break;
    case NODE_POW: ival_pow(y, y, b, prec); break;
    case NODE_MIN: ival_min2(y, y, b, 0, prec); break;
    case NODE_MAX: ival_min2(y, y, b, 1, prec); break;
    default: arb_indeterminate(y); break;
    }
}

/* ---- EV_DUAL: v encloses the value, d the derivative over x.  Where f is
 * not differentiable but Lipschitz (abs, min, max at a tie) d is the hull
 * of the one-sided derivatives, which is what the mean-value form needs. */

static void dual_fn(val_t *val, fn_t fn, const ev_t *ev)
{
    arb_ptr v = val->c, d = val->c + 1;
    mpfr_prec_t prec = ev->prec;
    arb_t t, u;
    arb_init(t);
    arb_init(u);
    switch (fn) {
    case FN_EXP: arb_exp(v, v, prec); arb_mul(d, d, v, prec); break;
    case FN_LOG:
        if (arb_is_positive(v)) {
            arb_div(d, d, v, prec);
            arb_log(v, v, prec);
        } else {
            arb_indeterminate(v);
        }
        break;
    case FN_LOG1P:
        arb_add_ui(t, v, 1, prec);
        if (arb_is_positive(t)) {
            arb_div(d, d, t, prec);
            arb_log1p(v, v, prec);
        } else {
            arb_indeterminate(v);
        }
        break;
    case FN_EXPM1: arb_exp(t, v, prec); arb_mul(d, d, t, prec); arb_expm1(v, v, prec); break;
    case FN_SQRT:
        if (arb_is_positive(v)) {
            arb_sqrt(v, v, prec);
            arb_mul_2exp_si(t, v, 1);
            arb_div(d, d, t, prec);
        } else {
            arb_indeterminate(v); /* sqrt' is unbounded at 0 */
        }
        break;
    case FN_ABS:
        if (arb_is_positive(v)) {
            /* d unchanged */
        } else if (arb_is_negative(v)) {
            arb_neg(d, d);
        } else {
            ival_abs(t, d, prec); /* hull of d and -d */
            arb_neg(u, t);
            arb_union(d, t, u, prec);
        }
        ival_abs(v, v, prec);
        break;
    case FN_TANH:
        arb_tanh(v, v, prec);
        arb_sqr(t, v, prec);
        arb_sub_ui(t, t, 1, prec);
        arb_neg(t, t);
        arb_mul(d, d, t, prec);
        break;
    case FN_SIGMOID:
        ival_sigmoid_expr(v, v, prec);
        arb_sub_ui(t, v, 1, prec);
        arb_neg(t, t);
        arb_mul(t, t, v, prec);
        arb_mul(d, d, t, prec);
        break;
    case FN_ERF: case FN_ERFC:
        /* erf' = 2/sqrt(pi) e^{-v^2}, erfc' = -erf' */
        arb_sqr(t, v, prec);
        arb_neg(t, t);
        arb_exp(t, t, prec);
        arb_const_sqrt_pi(u, prec);
        arb_div(t, t, u, prec);
        arb_mul_2exp_si(t, t, 1);
        if (fn == FN_ERFC)
            arb_neg(t, t);
        arb_mul(d, d, t, prec);
        if (fn == FN_ERF) special_ival_erf(v, v, prec);
        else special_ival_erfc(v, v, prec);
        break;
    case FN_SOFTPLUS:
        ival_sigmoid_expr(t, v, prec);
        arb_mul(d, d, t, prec);
        special_ival_softplus(v, v, prec);
        break;
    case FN_SIN: case FN_COS:
        arb_sin_cos(t, u, v, prec);
        if (fn == FN_SIN) {
            arb_mul(d, d, u, prec);  /* sin' = cos */
            arb_swap(v, t);
        } else {
            arb_mul(d, d, t, prec);  /* cos' = -sin */
            arb_neg(d, d);
            arb_swap(v, u);
        }
        break;
    }
    arb_clear(t);
    arb_clear(u);
}

static void dual_op2(val_t *va, node_kind_t op, const val_t *vb_, const ev_t *ev)
{
    arb_ptr v = va->c, d = va->c + 1;
    arb_srcptr vb = vb_->c, db = vb_->c + 1;
    mpfr_prec_t prec = ev->prec;
    arb_t t, u;
    arb_init(t);
    arb_init(u);
    switch (op) {
    case NODE_ADD: arb_add(v, v, vb, prec); arb_add(d, d, db, prec); break;
    case NODE_SUB: arb_sub(v, v, vb, prec); arb_sub(d, d, db, prec); break;
    case NODE_MUL:
        arb_mul(t, d, vb, prec);
        arb_mul(u, v, db, prec);
        arb_add(d, t, u, prec);
        arb_mul(v, v, vb, prec);
        break;
    case NODE_DIV:
        if (arb_contains_zero(vb)) {
            arb_indeterminate(v);
            break;
        }
        /* (a/b)' = (a' - (a/b) b') / b */
        arb_div(v, v, vb, prec);
        arb_mul(t, v, db, prec);
        arb_sub(d, d, t, prec);
        arb_div(d, d, vb, prec);
        break;
    case NODE_POW:
        if (arb_is_zero(db)) {
            /* constant exponent c: (a^c)' = c a^(c-1) a' */
            arb_sub_ui(t, vb, 1, prec);
            ival_pow(u, v, t, prec);
            arb_mul(u, u, vb, prec);
            arb_mul(d, d, u, prec);
            ival_pow(v, v, vb, prec);
        } else if (arb_is_positive(v)) {
            /* (a^b)' = a^b (b' log a + b a'/a) */
            arb_log(t, v, prec);
            arb_mul(t, t, db, prec);
            arb_mul(u, vb, d, prec);
            arb_div(u, u, v, prec);
            arb_add(t, t, u, prec);
            ival_pow(v, v, vb, prec);
            arb_mul(d, v, t, prec);
        } else {
            arb_indeterminate(v);
        }
        break;
    case NODE_MIN: case NODE_MAX: {
        int take_max = op == NODE_MAX;
        /* which argument certainly wins, if any */
        int a_wins = take_max ? arb_gt(v, vb) : arb_lt(v, vb);
        int b_wins = take_max ? arb_gt(vb, v) : arb_lt(vb, v);
        if (b_wins)
            arb_set(d, db);
        else if (!a_wins)
            arb_union(d, d, db, prec);
        ival_min2(v, v, vb, take_max, prec);
        break;
    }
    default:
        arb_indeterminate(v);
        break;
    }
    arb_clear(t);
    arb_clear(u);
}

/* ---- EV_SERIES: Arb's series functions on truncated power series
 * y[0..len) of f(x + t); each encloses its exact series at every point of
 * the balls of its operands' coefficients, so the coefficients at a ball x
 * enclose f^(k)(u)/k! for every u in x.  They do not alias: the operand is
 * moved out of the value first. */

/* 1 when the series is a constant (its coefficients past the first are 0). */
static int series_constant(arb_srcptr y, slong len)
{
    for (slong k = 1; k < len; k++)
        if (!arb_is_zero(y + k))
            return 0;
    return 1;
}

/* y = 1 / (1 + e^(-a)) as a series. */
static void series_sigmoid(arb_ptr y, arb_srcptr a, slong len, mpfr_prec_t prec)
{
    arb_ptr t = _arb_vec_init(len);
    _arb_vec_neg(t, a, len);
    _arb_poly_exp_series(t, t, len, len, prec);
    arb_add_ui(t, t, 1, prec);
    _arb_poly_inv_series(y, t, len, len, prec);
    _arb_vec_clear(t, len);
}

/* The sign of the series d on the side `side` of its point, from its
 * first coefficient that is not exactly 0 (times side^k): +1 or -1; 0 when
 * the first len coefficients are all exactly 0 (either branch then has the
 * same truncated series); 2 when a coefficient may be 0 but is not exactly
 * 0 (undecided). */
static int tie_sign(arb_srcptr d, int side, slong len)
{
    for (slong k = 0; k < len; k++) {
        if (arb_is_zero(d + k))
            continue;
        int s = arb_is_positive(d + k) ? 1 : arb_is_negative(d + k) ? -1 : 2;
        return s == 2 ? 2 : side < 0 && (k & 1) ? -s : s;
    }
    return 0;
}

/* The branch of the min, max or abs node ev->tc->cur whose two sides
 * differ by the series d (abs: its argument): 0 the first argument (abs:
 * a), 1 the second (abs: -a), -1 undecided (the value fails).  Decided by
 * the balls where d's value has a sign; else as ev->tc says (expr.h). */
static int tie_decide(arb_srcptr d, int take_max, const ev_t *ev)
{
    expr_ties_t *tc = ev->tc;
    int sg = arb_is_positive(d) ? 1 : arb_is_negative(d) ? -1 : 2;
    if (tc && tc->cur == tc->force_idx) {
        /* forced: only where d is strictly monotone on the ball (one root at most) */
        sg = ev->len >= 2 && (arb_is_positive(d + 1) || arb_is_negative(d + 1))
           ? (tc->force_dec == 0) == take_max ? 1 : -1 : 2;
    } else if (sg == 2 && tc) {
        tc->ties++;
        if (tc->first_tie < 0)
            tc->first_tie = tc->cur;
        if (tc->side)
            sg = tie_sign(d, tc->side, ev->len);
    }
    int dec = sg == 2 ? -1 : sg == 0 ? 0 : (sg > 0) == take_max ? 0 : 1;
    if (tc && tc->cur == tc->want_idx)
        tc->want_dec = dec;
    return dec;
}

static void series_fn(val_t *v, fn_t fn, const ev_t *ev)
{
    slong len = ev->len;
    mpfr_prec_t prec = ev->prec;
    arb_ptr y = v->c, a = _arb_vec_init(len), t = _arb_vec_init(len);
    _arb_vec_swap(a, y, len);
    switch (fn) {
    case FN_EXP: _arb_poly_exp_series(y, a, len, len, prec); break;
    case FN_LOG:
        if (arb_is_positive(a))
            _arb_poly_log_series(y, a, len, len, prec);
        else
            series_fail(y, len);
        break;
    case FN_LOG1P:
        arb_add_ui(t, a, 1, prec);
        if (arb_is_positive(t))
            _arb_poly_log1p_series(y, a, len, len, prec);
        else
            series_fail(y, len);
        break;
    case FN_EXPM1:
        _arb_poly_exp_series(y, a, len, len, prec);
        arb_expm1(y, a, prec); /* the value without the cancellation of e^a - 1 */
        break;
    case FN_SQRT:
        if (arb_is_positive(a))
            _arb_poly_sqrt_series(y, a, len, len, prec);
        else
            series_fail(y, len); /* sqrt is not differentiable at 0 */
        break;
    case FN_ABS: { /* max(a, -a): a - (-a) has a's sign */
        int dec = tie_decide(a, 1, ev);
        if (dec == 0)
            _arb_vec_set(y, a, len);
        else if (dec == 1)
            _arb_vec_neg(y, a, len);
        else
            series_fail(y, len); /* a kink inside the ball */
        break;
    }
    case FN_TANH: /* 2 sigma(2a) - 1 */
        _arb_vec_scalar_mul_2exp_si(t, a, len, 1);
        series_sigmoid(y, t, len, prec);
        _arb_vec_scalar_mul_2exp_si(y, y, len, 1);
        arb_sub_ui(y, y, 1, prec);
        break;
    case FN_SIGMOID: series_sigmoid(y, a, len, prec); break;
    case FN_ERF: _arb_hypgeom_erf_series(y, a, len, len, prec); break;
    case FN_ERFC: _arb_hypgeom_erfc_series(y, a, len, len, prec); break;
    case FN_SOFTPLUS: /* log(1 + e^a) */
        _arb_poly_exp_series(t, a, len, len, prec);
        _arb_poly_log1p_series(y, t, len, len, prec);
        break;
    case FN_SIN: case FN_COS: {
        arb_ptr c = _arb_vec_init(len);
        _arb_poly_sin_cos_series(t, c, a, len, len, prec);
        _arb_vec_set(y, fn == FN_SIN ? t : c, len);
        _arb_vec_clear(c, len);
        break;
    }
    }
    _arb_vec_clear(a, len);
    _arb_vec_clear(t, len);
}

/* y = a^b as a series. */
static void series_pow(arb_ptr y, arb_srcptr a, arb_srcptr b, slong len, mpfr_prec_t prec)
{
    if (series_constant(b, len) && arb_is_exact(b) && arf_is_int(arb_midref(b)) &&
        arf_cmpabs_2exp_si(arb_midref(b), 30) < 0) {
        slong n = arf_get_si(arb_midref(b), ARF_RND_NEAR);
        arb_ptr t = _arb_vec_init(len);
        _arb_poly_pow_ui_trunc_binexp(t, a, len, (ulong)(n < 0 ? -n : n), len, prec);
        if (n >= 0)
            _arb_vec_set(y, t, len);
        else if (arb_is_nonzero(t))
            _arb_poly_inv_series(y, t, len, len, prec);
        else
            series_fail(y, len);
        _arb_vec_clear(t, len);
        return;
    }
    if (!arb_is_positive(a)) {
        series_fail(y, len); /* a real power of a number that may be 0 or less */
        return;
    }
    if (series_constant(b, len)) {
        _arb_poly_pow_arb_series(y, a, len, b, len, prec);
        return;
    }
    arb_ptr t = _arb_vec_init(len), u = _arb_vec_init(len);
    _arb_poly_log_series(t, a, len, len, prec); /* e^(b log a) */
    _arb_poly_mullow(u, t, len, b, len, len, prec);
    _arb_poly_exp_series(y, u, len, len, prec);
    _arb_vec_clear(t, len);
    _arb_vec_clear(u, len);
}

static void series_op2(val_t *va, node_kind_t op, const val_t *vb, const ev_t *ev)
{
    slong len = ev->len;
    mpfr_prec_t prec = ev->prec;
    arb_ptr y = va->c, a = _arb_vec_init(len);
    arb_srcptr b = vb->c;
    _arb_vec_swap(a, y, len);
    switch (op) {
    case NODE_ADD: _arb_vec_add(y, a, b, len, prec); break;
    case NODE_SUB: _arb_vec_sub(y, a, b, len, prec); break;
    case NODE_MUL: _arb_poly_mullow(y, a, len, b, len, len, prec); break;
    case NODE_DIV:
        if (arb_is_nonzero(b))
            _arb_poly_div_series(y, a, len, b, len, len, prec);
        else
            series_fail(y, len);
        break;
    case NODE_POW: series_pow(y, a, b, len, prec); break;
    case NODE_MIN: case NODE_MAX: {
        /* smooth only where one argument certainly wins (or ev->tc decides) */
        arb_ptr d = _arb_vec_init(len);
        _arb_vec_sub(d, a, b, len, prec);
        int dec = tie_decide(d, op == NODE_MAX, ev);
        _arb_vec_clear(d, len);
        if (dec == 0)
            _arb_vec_set(y, a, len);
        else if (dec == 1)
            _arb_vec_set(y, b, len);
        else
            series_fail(y, len);
        break;
    }
    default: series_fail(y, len); break;
    }
    _arb_vec_clear(a, len);
}

/* ---- EV_POINT: not certified, for optimisers and plots */

/* Largest binary exponent of a sin or cos argument evaluated at a point. */
#define EXPR_TRIG_EXP_MAX 65536

static void point_fn(val_t *v, fn_t fn, const ev_t *ev)
{
    mpfr_ptr y = v->p;
    mpfr_rnd_t rnd = ev->rnd;
    switch (fn) {
    case FN_EXP: mpfr_exp(y, y, rnd); break;
    case FN_LOG: mpfr_log(y, y, rnd); break;
    case FN_LOG1P: mpfr_log1p(y, y, rnd); break;
    case FN_EXPM1: mpfr_expm1(y, y, rnd); break;
    case FN_SQRT: mpfr_sqrt(y, y, rnd); break;
    case FN_ABS: mpfr_abs(y, y, rnd); break;
    case FN_TANH: mpfr_tanh(y, y, rnd); break;
    case FN_SIGMOID:
        mpfr_neg(y, y, rnd);
        mpfr_exp(y, y, rnd);
        mpfr_add_ui(y, y, 1, rnd);
        mpfr_ui_div(y, 1, y, rnd);
        break;
    case FN_ERF: mpfr_erf(y, y, rnd); break;
    case FN_ERFC: mpfr_erfc(y, y, rnd); break;
    case FN_SOFTPLUS: {
        mpfr_t t;
        mpfr_init2(t, mpfr_get_prec(y));
        mpfr_set(t, y, rnd);
        special_fr_softplus(y, t, rnd);
        mpfr_clear(t);
        break;
    }
    case FN_SIN: case FN_COS:
        /* MPFR reduces a huge argument at its full exponent (minutes at 2^(10^8));
         * a point value there means nothing to an optimiser: NaN, as Arb gives [-1, 1] */
        if (mpfr_number_p(y) && !mpfr_zero_p(y) && mpfr_get_exp(y) > EXPR_TRIG_EXP_MAX)
            mpfr_set_nan(y);
        else if (fn == FN_SIN)
            mpfr_sin(y, y, rnd);
        else
            mpfr_cos(y, y, rnd);
        break;
    }
}

static void point_op2(val_t *va, node_kind_t op, const val_t *vb, const ev_t *ev)
{
    mpfr_ptr y = va->p;
    mpfr_srcptr b = vb->p;
    mpfr_rnd_t rnd = ev->rnd;
    switch (op) {
    case NODE_ADD: mpfr_add(y, y, b, rnd); break;
    case NODE_SUB: mpfr_sub(y, y, b, rnd); break;
    case NODE_MUL: mpfr_mul(y, y, b, rnd); break;
    case NODE_DIV: mpfr_div(y, y, b, rnd); break;
    case NODE_POW: mpfr_pow(y, y, b, rnd); break;
    case NODE_MIN: mpfr_min(y, y, b, rnd); break;
    case NODE_MAX: mpfr_max(y, y, b, rnd); break;
    default: mpfr_set_nan(y); break;
    }
}

/* ---- the walk */

/* Each mode's operations; the operand of op2 is y (result in place) and b. */
static const struct {
    void (*fn)(val_t *y, fn_t fn, const ev_t *ev);
    void (*op2)(val_t *y, node_kind_t op, const val_t *b, const ev_t *ev);
} ev_ops[] = {
    [EV_BALL] = {ball_fn, ball_op2},
    [EV_DUAL] = {dual_fn, dual_op2},
    [EV_SERIES] = {series_fn, series_op2},
    [EV_POINT] = {point_fn, point_op2},
};

/* A constant (number, pi, e): its enclosure as the value of a ball mode
 * (derivative and higher coefficients 0), or rounded with rnd. */
static void eval_const(val_t *y, const node_t *n, const ev_t *ev)
{
    if (ev->mode == EV_POINT) {
        if (n->kind == NODE_NUM) {
            mpfr_set_str(y->p, n->num, 10, ev->rnd);
        } else if (n->kind == NODE_PI) {
            mpfr_const_pi(y->p, ev->rnd);
        } else {
            mpfr_set_ui(y->p, 1, ev->rnd);
            mpfr_exp(y->p, y->p, ev->rnd);
        }
        return;
    }
    _arb_vec_zero(y->c, ev->len);
    if (n->kind == NODE_NUM) {
        if (ival_set_str(y->c, n->num, ev->prec) != 0)
            arb_indeterminate(y->c);
    } else if (n->kind == NODE_PI) {
        arb_const_pi(y->c, ev->prec);
    } else {
        arb_const_e(y->c, ev->prec);
    }
}

static void eval_node(val_t *y, const node_t *n, const ev_t *ev)
{
    switch (n->kind) {
    case NODE_NUM: case NODE_PI: case NODE_E:
        eval_const(y, n, ev);
        break;
    case NODE_VAR:
        if (ev->mode == EV_POINT)
            mpfr_set(y->p, ev->xp, ev->rnd);
        else
            _arb_vec_set(y->c, ev->x, ev->len);
        break;
    case NODE_NEG:
        eval_node(y, n->a, ev);
        if (ev->mode == EV_POINT)
            mpfr_neg(y->p, y->p, ev->rnd);
        else
            _arb_vec_neg(y->c, y->c, ev->len);
        break;
    case NODE_FN: {
        /* min, max and abs nodes are numbered in pre-order, failed or not */
        int idx = ev->tc && n->fn == FN_ABS ? ev->tc->next++ : -1;
        eval_node(y, n->a, ev);
        if (idx >= 0)
            ev->tc->cur = idx;
        if (val_ok(y, ev))
            ev_ops[ev->mode].fn(y, n->fn, ev);
        break;
    }
    default: {
        val_t b;
        val_init(&b, ev);
        int idx = ev->tc && (n->kind == NODE_MIN || n->kind == NODE_MAX) ? ev->tc->next++ : -1;
        eval_node(y, n->a, ev);
        eval_node(&b, n->b, ev);
        if (idx >= 0)
            ev->tc->cur = idx;
        if (val_ok(y, ev) && val_ok(&b, ev))
            ev_ops[ev->mode].op2(y, n->kind, &b, ev);
        else
            val_fail(y, ev);
        val_clear(&b, ev);
        break;
    }
    }
    if (!val_ok(y, ev))
        val_fail(y, ev); /* outside the domain, unbounded, inf - inf, overflow */
}

/* y[0..len) = the ball-mode value of e at the variable x (y may alias x's
 * balls: the walk runs in a fresh value). */
static void eval_balls(arb_ptr y, const expr_t *e, ev_mode_t mode, const arb_t x, slong len,
                       mpfr_prec_t prec, expr_ties_t *tc)
{
    ev_t ev = {mode, len, prec, MPFR_RNDN, NULL, NULL, tc};
    val_t r;
    val_init(&r, &ev);
    if (!arb_is_finite(x)) {
        series_fail(r.c, len);
    } else {
        arb_ptr var = _arb_vec_init(len); /* x + t */
        arb_set(var, x);
        if (len > 1)
            arb_one(var + 1);
        ev.x = var;
        eval_node(&r, e->root, &ev);
        _arb_vec_clear(var, len);
    }
    _arb_vec_swap(y, r.c, len);
    val_clear(&r, &ev);
}

void expr_eval_ival(arb_t y, const expr_t *e, const arb_t x, mpfr_prec_t prec)
{
    eval_balls(y, e, EV_BALL, x, 1, prec, NULL);
}

void expr_eval_dival(arb_t dy, const expr_t *e, const arb_t x, mpfr_prec_t prec)
{
    arb_ptr vd = _arb_vec_init(2);
    eval_balls(vd, e, EV_DUAL, x, 2, prec, NULL); /* not finite: not differentiable, or
                                               outside the domain */
    arb_swap(dy, vd + 1);
    _arb_vec_clear(vd, 2);
}

void expr_eval_series(arb_ptr y, const expr_t *e, const arb_t x, slong len, mpfr_prec_t prec)
{
    if (len >= 1)
        eval_balls(y, e, EV_SERIES, x, len, prec, NULL);
}

void expr_ties_init(expr_ties_t *t)
{
    memset(t, 0, sizeof *t);
    t->force_idx = t->want_idx = t->first_tie = t->want_dec = -1;
}

void expr_eval_series_ties(arb_ptr y, const expr_t *e, const arb_t x, slong len,
                           mpfr_prec_t prec, expr_ties_t *t)
{
    t->ties = t->next = 0;
    t->first_tie = t->want_dec = t->cur = -1;
    if (len < 1)
        return;
    if (t->side && !arb_is_exact(x)) {
        series_fail(y, len); /* a side decides a tie only at a point */
        return;
    }
    eval_balls(y, e, EV_SERIES, x, len, prec, t);
}

int expr_eval_jet(arb_ptr y, const expr_t *e, const arb_t x0, int side, slong len,
                  mpfr_prec_t prec)
{
    expr_ties_t t;
    expr_ties_init(&t);
    t.side = side < 0 ? -1 : 1;
    expr_eval_series_ties(y, e, x0, len, prec, &t);
    return t.ties;
}

void expr_eval_fr(mpfr_t y, const expr_t *e, const mpfr_t x, mpfr_rnd_t rnd)
{
    ev_t ev = {EV_POINT, 0, mpfr_get_prec(y), rnd, NULL, x, NULL};
    val_t r;
    val_init(&r, &ev);
    eval_node(&r, e->root, &ev);
    mpfr_swap(r.p, y);
    val_clear(&r, &ev);
}

double expr_eval_d(const expr_t *e, double x)
{
    mpfr_t y, t;
    mpfr_init2(y, 53);
    mpfr_init2(t, 53);
    mpfr_set_d(t, x, MPFR_RNDN);
    expr_eval_fr(y, e, t, MPFR_RNDN);
    double r = mpfr_get_d(y, MPFR_RNDN);
    mpfr_clear(y);
    mpfr_clear(t);
    return r;
}

/* ------------------------------------------------------- constants */

static int collect_constants(const node_t *n, const char **texts, int max, int count)
{
    if (!n)
        return count;
    count = collect_constants(n->a, texts, max, count);
    count = collect_constants(n->b, texts, max, count);
    if (n->kind == NODE_NUM && n->typed) {
        for (int k = 0; k < count && k < max; k++)
            if (strcmp(texts[k], n->num) == 0)
                return count; /* already there (a built-in's argument is copied) */
        if (count < max)
            texts[count] = n->num;
        count++;
    }
    return count;
}

int expr_constants(const char **texts, int max, const expr_t *e)
{
    return collect_constants(e->root, texts, max, 0);
}
