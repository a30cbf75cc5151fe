//! "Did you mean" suggestions for misspelt column names.

/// The candidate closest to `name` (a typo, a different case, a prefix), if any is close.
pub(crate) fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .filter(|c| {
            let (a, b) = (c.to_lowercase(), name.to_lowercase());
            a.contains(&b) || b.contains(&a) || levenshtein(&a, &b) <= 2
        })
        .min_by_key(|c| levenshtein(&c.to_lowercase(), &name.to_lowercase()))
        .cloned()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
