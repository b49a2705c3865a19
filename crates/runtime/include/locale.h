/* <locale.h> for BPF programs run by bpf-repl (bpf-runtime): only the C
 * locale exists (setlocale accepts "C", "POSIX" and "", and refuses any
 * other name with NULL). */
#ifndef _BPF_RUNTIME_LOCALE_H
#define _BPF_RUNTIME_LOCALE_H

#define __need_NULL
#include <stddef.h>

#define LC_CTYPE 0
#define LC_NUMERIC 1
#define LC_TIME 2
#define LC_COLLATE 3
#define LC_MONETARY 4
#define LC_MESSAGES 5
#define LC_ALL 6

struct lconv {
    char *decimal_point;
    char *thousands_sep;
    char *grouping;
    char *int_curr_symbol;
    char *currency_symbol;
    char *mon_decimal_point;
    char *mon_thousands_sep;
    char *mon_grouping;
    char *positive_sign;
    char *negative_sign;
    char int_frac_digits;
    char frac_digits;
    char p_cs_precedes;
    char p_sep_by_space;
    char n_cs_precedes;
    char n_sep_by_space;
    char p_sign_posn;
    char n_sign_posn;
    char int_p_cs_precedes;
    char int_p_sep_by_space;
    char int_n_cs_precedes;
    char int_n_sep_by_space;
    char int_p_sign_posn;
    char int_n_sign_posn;
};

static __inline__ char *setlocale(int category, const char *name)
{
    (void)category;
    if (!name || !name[0] || (name[0] == 'C' && !name[1]) ||
        (name[0] == 'P' && name[1] == 'O' && name[2] == 'S' && name[3] == 'I' && name[4] == 'X' &&
         !name[5]))
        return (char *)"C";
    return NULL;
}

static __inline__ struct lconv *localeconv(void)
{
    static struct lconv c = {(char *)".", (char *)"", (char *)"", (char *)"", (char *)"",
                             (char *)"", (char *)"", (char *)"", (char *)"", (char *)"",
                             127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127};
    return &c;
}

#endif /* _BPF_RUNTIME_LOCALE_H */
