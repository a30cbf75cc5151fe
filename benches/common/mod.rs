//! What both benches measure beyond their own scripts: two sets of nearly every member, and
//! ten sets for the overlap matrix (over the segments `clients`, `acheteurs_recents` and
//! `vip` both benches define).

/// Two segments of nearly every member, for the set-operation figures.
pub const BIG_SETS: &str = "
segment presque_tous = all - [has purchases within 7 days];
segment sans_avis = [no reviews within 12 months];
";

/// Ten sets for the overlap matrix.
pub const TEN_SETS: [&str; 10] = [
    "all",
    "presque_tous",
    "sans_avis",
    "clients",
    "acheteurs_recents",
    "vip",
    "[has visits within 90 days]",
    "[city = 'Paris']",
    "[has purchases within 24 months]",
    "[no visits within 12 months]",
];
