//! The real scope names closest to a name Genesys does not know: configs copied from the common
//! tutorial declare `user:read`, `analytics:report:read`, `organization:read`, where Genesys's names
//! are `users:readonly`, `analytics:readonly`, `organization:readonly`.

use crate::table::Catalogue;

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Words that mark a read: such a name maps to `<area>:readonly` where the area has one.
const READ_WORDS: &[&str] = &["read", "view", "get", "list", "search", "query"];

/// Up to two real scope names for `name` (`user:read` → `users:readonly`), closest area first;
/// empty when nothing is close (the area is more than two edits from every real one).
///
/// ```
/// let c = genesys_catalogue::catalogue();
/// assert_eq!(genesys_catalogue::closest_scopes(c, "user:read"), vec!["users:readonly"]);
/// assert_eq!(genesys_catalogue::closest_scopes(c, "analytics:report:read"), vec!["analytics:readonly"]);
/// assert_eq!(genesys_catalogue::closest_scopes(c, "users:write"), vec!["users"]);
/// ```
pub fn closest_scopes(c: &Catalogue, name: &str) -> Vec<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.split([':', '.', '/']);
    let area = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let read = rest.iter().any(|w| READ_WORDS.iter().any(|r| w.contains(r)));
    let mut areas: Vec<(usize, &'static str)> =
        c.scope_names().filter(|s| !s.contains(':')).map(|s| (distance(area, s), s)).filter(|(d, s)| *d <= 2 && *d < s.len()).collect();
    areas.sort();
    let best = areas.first().map(|(d, _)| *d);
    areas
        .into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .take(2)
        .map(|(_, a)| {
            let readonly = c.scope_names().find(|s| s.strip_suffix(":readonly") == Some(a));
            if read {
                readonly.unwrap_or(a)
            } else {
                a
            }
        })
        .collect()
}
