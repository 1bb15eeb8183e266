//! Natural version order: digit runs compare as numbers, so `9_x` < `10_y` and `V2__` < `V10__`.

use std::cmp::Ordering;

pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Paths share long prefixes: skip the common bytes, from a point where both are at the same
    // boundary (not inside a digit run, and before the separator whose class looks ahead).
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let mut start = common.saturating_sub(1);
    while start > 0 && a[start - 1].is_ascii_digit() {
        start -= 1;
    }
    compare_from(&a[start..], &b[start..])
}

fn compare_from(mut a: &[u8], mut b: &[u8]) -> Ordering {
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb)).then_with(|| da.cmp(&db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                let (kx, ky) = (sort_key(*x, a.get(1)), sort_key(*y, b.get(1)));
                if kx != ky {
                    return kx.cmp(&ky);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// Path separators sort first (a folder's files come before a sibling whose name extends the
/// folder's name); then a separator that ends a version (`V1__x` before `V1_1__y`, as Flyway
/// orders 1 before 1.1); then a separator that continues one; then everything else.
fn sort_key(c: u8, next: Option<&u8>) -> (u8, u8) {
    match c {
        b'/' | b'\\' => (0, c),
        b'_' | b'.' | b'-' if next.is_some_and(u8::is_ascii_digit) => (2, c),
        b'_' | b'.' | b'-' => (1, c),
        _ => (3, c),
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn skipping_the_common_prefix_changes_no_answer() {
        let alphabet = ["0", "1", "9", "10", "_", ".", "-", "/", "a", "V", "__", "00"];
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let word = |next: &mut dyn FnMut() -> u64| {
            let n = next() % 8;
            (0..n).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect::<String>()
        };
        for _ in 0..20_000 {
            let prefix = word(&mut next);
            let (a, b) = (format!("{prefix}{}", word(&mut next)), format!("{prefix}{}", word(&mut next)));
            assert_eq!(natural_cmp(&a, &b), super::compare_from(a.as_bytes(), b.as_bytes()), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn versions_sort_numerically() {
        assert_eq!(natural_cmp("9_x.sql", "10_y.sql"), Less);
        assert_eq!(natural_cmp("V2__a.sql", "V10__a.sql"), Less);
        assert_eq!(natural_cmp("20230101120000_a.sql", "20231231000000_b.sql"), Less);
        assert_eq!(natural_cmp("m/2/a.sql", "m/10/a.sql"), Less);
        assert_eq!(natural_cmp("a.sql", "a.sql"), Equal);
        assert_eq!(natural_cmp("001_a.sql", "1_a.sql"), Greater);
        assert_eq!(natural_cmp("V1__init.sql", "V1_1__soft.sql"), Less);
        assert_eq!(natural_cmp("V1__init.sql", "V1.1__soft.sql"), Less);
        assert_eq!(natural_cmp("V1.1__a.sql", "V1.2__a.sql"), Less);
        assert_eq!(natural_cmp("V1.10__a.sql", "V1.9__a.sql"), Greater);
    }
}
