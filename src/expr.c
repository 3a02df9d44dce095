/* Recursive-descent parser and evaluators of the --expr language (expr.h).
 * The parser never recurses more than EXPR_MAX_DEPTH levels of `unary`, the
 * one rule every cycle of the grammar passes through, and reads at most
 * EXPR_MAX_LEN bytes, so it always stops. */
#include "expr.h"
#include "special.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    NODE_NUM, NODE_VAR, NODE_PI, NODE_E, NODE_NEG,
    NODE_ADD, NODE_SUB, NODE_MUL, NODE_DIV, NODE_POW,
    NODE_MIN, NODE_MAX, NODE_FN
} node_kind_t;

typedef enum {
    FN_EXP, FN_LOG, FN_LOG1P, FN_EXPM1, FN_SQRT, FN_ABS, FN_TANH,
    FN_SIGMOID, FN_ERF, FN_ERFC, FN_SOFTPLUS
} fn_t;

static const char *const fn_names[] = {
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "tanh",
    "sigmoid", "erf", "erfc", "softplus"
};
#define N_FN ((int)(sizeof fn_names / sizeof fn_names[0]))

typedef struct node {
    node_kind_t kind;
    fn_t fn;
    char *num;            /* NODE_NUM: the literal's text */
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
        int is_min = NAME_IS("min"), is_max = NAME_IS("max"), fn = -1;
        for (int k = 0; k < N_FN && !is_min && !is_max; k++)
            if (n_len == strlen(fn_names[k]) && memcmp(name, fn_names[k], n_len) == 0)
                fn = k;
#undef NAME_IS
        if (fn < 0 && !is_min && !is_max) {
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
        if (is_min || is_max) {
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
    if (p->i < p->len && p->s[p->i] == '^') {
        p->i++;
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

static node_t *parse_term(parser_t *p)
{
    node_t *left = parse_unary(p);
    while (left) {
        skip_space(p);
        if (p->i >= p->len || (p->s[p->i] != '*' && p->s[p->i] != '/'))
            break;
        node_kind_t k = p->s[p->i] == '*' ? NODE_MUL : NODE_DIV;
        p->i++;
        node_t *right = parse_unary(p);
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

static node_t *parse_expr(parser_t *p)
{
    node_t *left = parse_term(p);
    while (left) {
        skip_space(p);
        if (p->i >= p->len || (p->s[p->i] != '+' && p->s[p->i] != '-'))
            break;
        node_kind_t k = p->s[p->i] == '+' ? NODE_ADD : NODE_SUB;
        p->i++;
        node_t *right = parse_term(p);
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

expr_t *expr_parse(const char *text, char *err, size_t errsz)
{
    parser_t p = {0};
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

/* ------------------------------------------------------- interval evaluation */

static void ival_min2(mpfi_t r, const mpfi_t a, const mpfi_t b, int take_max)
{
    if (mpfi_nan_p(a) || mpfi_nan_p(b)) {
        special_ival_set_nan(r);
        return;
    }
    mpfr_t lo, hi;
    mpfr_init2(lo, mpfi_get_prec(r));
    mpfr_init2(hi, mpfi_get_prec(r));
    /* min and max of ends are exact up to the rounding to r's precision. */
    if (take_max) {
        mpfr_max(lo, &a->left, &b->left, MPFR_RNDD);
        mpfr_max(hi, &a->right, &b->right, MPFR_RNDU);
    } else {
        mpfr_min(lo, &a->left, &b->left, MPFR_RNDD);
        mpfr_min(hi, &a->right, &b->right, MPFR_RNDU);
    }
    mpfi_interv_fr(r, lo, hi);
    mpfr_clear(lo);
    mpfr_clear(hi);
}

/* r = [f(lo) down, f(hi) up] for an increasing f on the ends of a (or
 * swapped when decreasing); mpfr's pow with a fixed exponent. */
static void ival_pow_point(mpfi_t r, const mpfi_t a, const mpfr_t y, int increasing)
{
    mpfr_t lo, hi;
    mpfr_init2(lo, mpfi_get_prec(r));
    mpfr_init2(hi, mpfi_get_prec(r));
    if (increasing) {
        mpfr_pow(lo, &a->left, y, MPFR_RNDD);
        mpfr_pow(hi, &a->right, y, MPFR_RNDU);
    } else {
        mpfr_pow(lo, &a->right, y, MPFR_RNDD);
        mpfr_pow(hi, &a->left, y, MPFR_RNDU);
    }
    if (mpfr_nan_p(lo) || mpfr_nan_p(hi))
        special_ival_set_nan(r);
    else
        mpfi_interv_fr(r, lo, hi);
    mpfr_clear(lo);
    mpfr_clear(hi);
}

/* r encloses a^b over the boxes a and b. */
static void ival_pow(mpfi_t r, const mpfi_t a, const mpfi_t b)
{
    if (mpfi_nan_p(a) || mpfi_nan_p(b)) {
        special_ival_set_nan(r);
        return;
    }
    mpfr_prec_t prec = mpfi_get_prec(r);
    int point_exp = mpfr_equal_p(&b->left, &b->right);
    if (point_exp && mpfr_integer_p(&b->left) && mpfr_fits_slong_p(&b->left, MPFR_RNDN)) {
        long n = mpfr_get_si(&b->left, MPFR_RNDN);
        if (n == 0) {
            mpfi_set_ui(r, 1); /* x^0 = 1, also at 0 as in MPFR */
            return;
        }
        mpfi_t m;
        mpfi_init2(m, prec);
        unsigned long k = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;
        mpfr_t y;
        mpfr_init2(y, 64);
        mpfr_set_ui(y, k, MPFR_RNDN);
        if (k % 2 == 1) {
            ival_pow_point(m, a, y, 1); /* odd power: increasing on R */
        } else {
            mpfi_t ab;
            mpfi_init2(ab, mpfi_get_prec(a));
            mpfi_abs(ab, a);
            ival_pow_point(m, ab, y, 1); /* even power: increasing in |x| */
            mpfi_clear(ab);
        }
        if (n < 0) {
            if (mpfi_has_zero(m)) {
                /* 1/x^k near 0: unbounded, or undefined at the point 0. */
                if (mpfr_zero_p(&m->left) && mpfr_zero_p(&m->right))
                    special_ival_set_nan(r);
                else if (k % 2 == 0)
                    mpfi_interv_d(r, 0.0, 1.0 / 0.0);
                else
                    mpfi_interv_d(r, -1.0 / 0.0, 1.0 / 0.0);
            } else {
                mpfi_inv(r, m); /* monotone on each side of 0: ends map to ends */
            }
        } else {
            mpfi_set(r, m);
        }
        mpfr_clear(y);
        mpfi_clear(m);
        return;
    }
    if (mpfr_sgn(&a->left) < 0) {
        special_ival_set_nan(r); /* non-integer power of a negative number */
        return;
    }
    if (point_exp) {
        /* x^y on [0, inf): increasing for y > 0, decreasing for y < 0. */
        ival_pow_point(r, a, &b->left, mpfr_sgn(&b->left) > 0);
        return;
    }
    /* a^b = exp(b log a); log 0 = -inf may give 0 * inf = NaN: cannot certify. */
    mpfi_t t;
    mpfi_init2(t, prec);
    mpfi_log(t, a);
    mpfi_mul(t, t, b);
    if (mpfi_nan_p(t))
        special_ival_set_nan(r);
    else
        mpfi_exp(r, t);
    mpfi_clear(t);
}

/* sigma(x) = 1/(1+exp(-x)): x occurs once, so interval composition of these
 * monotone steps maps ends to ends (up to rounding). */
static void ival_sigmoid_expr(mpfi_t y, const mpfi_t x)
{
    mpfi_t t;
    mpfi_init2(t, mpfi_get_prec(y) + 8);
    mpfi_neg(t, x);
    mpfi_exp(t, t);
    mpfi_add_ui(t, t, 1);
    mpfi_ui_div(y, 1, t);
    mpfi_clear(t);
}

static void eval_node_ival(mpfi_t y, const node_t *n, const mpfi_t x)
{
    mpfr_prec_t prec = mpfi_get_prec(y);
    switch (n->kind) {
    case NODE_NUM:
        if (mpfi_set_str(y, n->num, 10) != 0)
            special_ival_set_nan(y);
        return;
    case NODE_VAR:
        mpfi_set(y, x);
        return;
    case NODE_PI:
        mpfi_const_pi(y);
        return;
    case NODE_E:
        mpfi_set_ui(y, 1);
        mpfi_exp(y, y);
        return;
    case NODE_NEG:
        eval_node_ival(y, n->a, x);
        mpfi_neg(y, y);
        return;
    case NODE_FN: {
        eval_node_ival(y, n->a, x);
        switch (n->fn) {
        case FN_EXP: mpfi_exp(y, y); break;
        case FN_LOG: mpfi_log(y, y); break;
        case FN_LOG1P: mpfi_log1p(y, y); break;
        case FN_EXPM1: mpfi_expm1(y, y); break;
        case FN_SQRT: mpfi_sqrt(y, y); break;
        case FN_ABS: mpfi_abs(y, y); break;
        case FN_TANH: mpfi_tanh(y, y); break;
        case FN_SIGMOID: ival_sigmoid_expr(y, y); break;
        case FN_ERF: special_ival_erf(y, y); break;
        case FN_ERFC: special_ival_erfc(y, y); break;
        case FN_SOFTPLUS: special_ival_softplus(y, y); break;
        }
        /* MPFI leaves an end NaN, or crosses the ends, outside the domain
         * (log or sqrt of a negative): make the whole result NaN. */
        if (mpfi_nan_p(y) || mpfr_nan_p(&y->left) || mpfr_nan_p(&y->right) ||
            mpfr_greater_p(&y->left, &y->right))
            special_ival_set_nan(y);
        return;
    }
    default:
        break;
    }
    /* Binary nodes. */
    mpfi_t b;
    mpfi_init2(b, prec);
    eval_node_ival(y, n->a, x);
    eval_node_ival(b, n->b, x);
    if (mpfi_nan_p(y) || mpfi_nan_p(b)) {
        special_ival_set_nan(y);
    } else {
        switch (n->kind) {
        case NODE_ADD: mpfi_add(y, y, b); break;
        case NODE_SUB: mpfi_sub(y, y, b); break;
        case NODE_MUL: mpfi_mul(y, y, b); break;
        case NODE_DIV:
            if (!mpfi_has_zero(b)) {
                mpfi_div(y, y, b);
            } else if (mpfr_zero_p(&b->left) && mpfr_zero_p(&b->right)) {
                special_ival_set_nan(y); /* division by the point 0 */
            } else {
                mpfi_interv_d(y, -1.0 / 0.0, 1.0 / 0.0); /* unbounded near the pole */
            }
            break;
        case NODE_POW: ival_pow(y, y, b); break;
        case NODE_MIN: ival_min2(y, y, b, 0); break;
        case NODE_MAX: ival_min2(y, y, b, 1); break;
        default: special_ival_set_nan(y); break;
        }
        if (mpfr_nan_p(&y->left) || mpfr_nan_p(&y->right))
            special_ival_set_nan(y); /* inf - inf, 0 * inf */
    }
    mpfi_clear(b);
}

void expr_eval_ival(mpfi_t y, const expr_t *e, const mpfi_t x)
{
    if (mpfi_nan_p(x)) {
        special_ival_set_nan(y);
        return;
    }
    /* Evaluate in a fresh variable so y may alias x. */
    mpfi_t r;
    mpfi_init2(r, mpfi_get_prec(y));
    eval_node_ival(r, e->root, x);
    mpfi_swap(r, y);
    mpfi_clear(r);
}

/* ------------------------------------------------- derivative enclosure */

/* Forward mode on intervals: v encloses the value, d the derivative of the
 * node over x.  Where the node is not differentiable but Lipschitz (abs,
 * min, max at a tie) d is the hull of the one-sided derivatives, which is
 * what the mean-value form needs. */
static void eval_node_dual(mpfi_t v, mpfi_t d, const node_t *n, const mpfi_t x)
{
    mpfr_prec_t prec = mpfi_get_prec(v);
    mpfi_t t, u;
    switch (n->kind) {
    case NODE_NUM: case NODE_PI: case NODE_E:
        eval_node_ival(v, n, x);
        mpfi_set_ui(d, 0);
        return;
    case NODE_VAR:
        mpfi_set(v, x);
        mpfi_set_ui(d, 1);
        return;
    case NODE_NEG:
        eval_node_dual(v, d, n->a, x);
        mpfi_neg(v, v);
        mpfi_neg(d, d);
        return;
    case NODE_FN:
        eval_node_dual(v, d, n->a, x);
        mpfi_init2(t, prec);
        mpfi_init2(u, prec);
        switch (n->fn) {
        case FN_EXP: mpfi_exp(v, v); mpfi_mul(d, d, v); break;
        case FN_LOG: mpfi_div(d, d, v); mpfi_log(v, v); break;
        case FN_LOG1P: mpfi_add_ui(t, v, 1); mpfi_div(d, d, t); mpfi_log1p(v, v); break;
        case FN_EXPM1: mpfi_exp(t, v); mpfi_mul(d, d, t); mpfi_expm1(v, v); break;
        case FN_SQRT: mpfi_sqrt(v, v); mpfi_mul_2ui(t, v, 1); mpfi_div(d, d, t); break;
        case FN_ABS:
            if (mpfr_sgn(&v->left) < 0 && mpfr_sgn(&v->right) > 0) {
                mpfi_abs(t, d); /* hull of d and -d */
                mpfi_neg(u, t);
                mpfi_union(d, t, u);
            } else if (mpfr_sgn(&v->right) <= 0 && !mpfr_zero_p(&v->left)) {
                mpfi_neg(d, d);
            } else if (mpfr_zero_p(&v->left) && mpfr_zero_p(&v->right)) {
                mpfi_abs(t, d);
                mpfi_neg(u, t);
                mpfi_union(d, t, u);
            }
            mpfi_abs(v, v);
            break;
        case FN_TANH:
            mpfi_tanh(v, v);
            mpfi_sqr(t, v);
            mpfi_ui_sub(t, 1, t);
            mpfi_mul(d, d, t);
            break;
        case FN_SIGMOID:
            ival_sigmoid_expr(v, v);
            mpfi_ui_sub(t, 1, v);
            mpfi_mul(t, t, v);
            mpfi_mul(d, d, t);
            break;
        case FN_ERF: case FN_ERFC:
            /* erf' = 2/sqrt(pi) e^{-v^2}, erfc' = -erf' */
            mpfi_sqr(t, v);
            mpfi_neg(t, t);
            mpfi_exp(t, t);
            mpfi_const_pi(u);
            mpfi_sqrt(u, u);
            mpfi_div(t, t, u);
            mpfi_mul_2ui(t, t, 1);
            if (n->fn == FN_ERFC)
                mpfi_neg(t, t);
            mpfi_mul(d, d, t);
            if (n->fn == FN_ERF) special_ival_erf(v, v);
            else special_ival_erfc(v, v);
            break;
        case FN_SOFTPLUS:
            ival_sigmoid_expr(t, v);
            mpfi_mul(d, d, t);
            special_ival_softplus(v, v);
            break;
        }
        mpfi_clear(t);
        mpfi_clear(u);
        return;
    default:
        break;
    }
    mpfi_t vb, db;
    mpfi_init2(vb, prec);
    mpfi_init2(db, prec);
    mpfi_init2(t, prec);
    mpfi_init2(u, prec);
    eval_node_dual(v, d, n->a, x);
    eval_node_dual(vb, db, n->b, x);
    switch (n->kind) {
    case NODE_ADD: mpfi_add(v, v, vb); mpfi_add(d, d, db); break;
    case NODE_SUB: mpfi_sub(v, v, vb); mpfi_sub(d, d, db); break;
    case NODE_MUL:
        mpfi_mul(t, d, vb);
        mpfi_mul(u, v, db);
        mpfi_add(d, t, u);
        mpfi_mul(v, v, vb);
        break;
    case NODE_DIV:
        if (mpfi_has_zero(vb)) {
            special_ival_set_nan(v);
            special_ival_set_nan(d);
            break;
        }
        /* (a/b)' = (a' - (a/b) b') / b */
        mpfi_div(v, v, vb);
        mpfi_mul(t, v, db);
        mpfi_sub(d, d, t);
        mpfi_div(d, d, vb);
        break;
    case NODE_POW:
        if (mpfr_zero_p(&db->left) && mpfr_zero_p(&db->right)) {
            /* constant exponent c: (a^c)' = c a^(c-1) a' */
            mpfi_sub_ui(t, vb, 1);
            ival_pow(u, v, t);
            mpfi_mul(u, u, vb);
            mpfi_mul(d, d, u);
            ival_pow(v, v, vb);
        } else if (mpfr_sgn(&v->left) > 0) {
            /* (a^b)' = a^b (b' log a + b a'/a) */
            mpfi_log(t, v);
            mpfi_mul(t, t, db);
            mpfi_mul(u, vb, d);
            mpfi_div(u, u, v);
            mpfi_add(t, t, u);
            ival_pow(v, v, vb);
            mpfi_mul(d, v, t);
        } else {
            special_ival_set_nan(v);
            special_ival_set_nan(d);
        }
        break;
    case NODE_MIN: case NODE_MAX: {
        int take_max = n->kind == NODE_MAX;
        /* which argument certainly wins, if any */
        int a_wins = take_max ? mpfr_greater_p(&v->left, &vb->right)
                              : mpfr_less_p(&v->right, &vb->left);
        int b_wins = take_max ? mpfr_greater_p(&vb->left, &v->right)
                              : mpfr_less_p(&vb->right, &v->left);
        if (b_wins)
            mpfi_set(d, db);
        else if (!a_wins)
            mpfi_union(d, d, db);
        ival_min2(v, v, vb, take_max);
        break;
    }
    default:
        special_ival_set_nan(v);
        special_ival_set_nan(d);
        break;
    }
    mpfi_clear(vb);
    mpfi_clear(db);
    mpfi_clear(t);
    mpfi_clear(u);
}

void expr_eval_dival(mpfi_t dy, const expr_t *e, const mpfi_t x)
{
    mpfi_t v, d;
    mpfi_init2(v, mpfi_get_prec(dy));
    mpfi_init2(d, mpfi_get_prec(dy));
    if (mpfi_nan_p(x))
        special_ival_set_nan(d);
    else
        eval_node_dual(v, d, e->root, x);
    if (mpfi_nan_p(d) || mpfr_nan_p(&d->left) || mpfr_nan_p(&d->right) ||
        mpfi_nan_p(v) || mpfr_nan_p(&v->left) || mpfr_nan_p(&v->right))
        special_ival_set_nan(d); /* not differentiable, or outside the domain */
    mpfi_swap(d, dy);
    mpfi_clear(v);
    mpfi_clear(d);
}

/* ---------------------------------------------------------- point evaluation */

static void eval_node_fr(mpfr_t y, const node_t *n, const mpfr_t x, mpfr_rnd_t rnd)
{
    mpfr_t b;
    switch (n->kind) {
    case NODE_NUM: mpfr_set_str(y, n->num, 10, rnd); return;
    case NODE_VAR: mpfr_set(y, x, rnd); return;
    case NODE_PI: mpfr_const_pi(y, rnd); return;
    case NODE_E: mpfr_set_ui(y, 1, rnd); mpfr_exp(y, y, rnd); return;
    case NODE_NEG: eval_node_fr(y, n->a, x, rnd); mpfr_neg(y, y, rnd); return;
    case NODE_FN:
        eval_node_fr(y, n->a, x, rnd);
        switch (n->fn) {
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
        }
        return;
    default:
        break;
    }
    mpfr_init2(b, mpfr_get_prec(y));
    eval_node_fr(y, n->a, x, rnd);
    eval_node_fr(b, n->b, x, rnd);
    switch (n->kind) {
    case NODE_ADD: mpfr_add(y, y, b, rnd); break;
    case NODE_SUB: mpfr_sub(y, y, b, rnd); break;
    case NODE_MUL: mpfr_mul(y, y, b, rnd); break;
    case NODE_DIV: mpfr_div(y, y, b, rnd); break;
    case NODE_POW: mpfr_pow(y, y, b, rnd); break;
    case NODE_MIN: mpfr_min(y, y, b, rnd); break;
    case NODE_MAX: mpfr_max(y, y, b, rnd); break;
    default: mpfr_set_nan(y); break;
    }
    mpfr_clear(b);
}

void expr_eval_fr(mpfr_t y, const expr_t *e, const mpfr_t x, mpfr_rnd_t rnd)
{
    mpfr_t r;
    mpfr_init2(r, mpfr_get_prec(y));
    eval_node_fr(r, e->root, x, rnd);
    mpfr_swap(r, y);
    mpfr_clear(r);
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
