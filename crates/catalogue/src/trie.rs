//! The path index: one node per path segment, literal children before the parameter child, so
//! `/users/search` finds its own operation and `/users/abc` finds `/users/{userId}`; a literal that
//! leads nowhere for the method falls back to the parameter (`DELETE /users/search` → `{userId}`).

#[derive(Debug, Default)]
struct Node {
    /// Sorted by segment (binary search): most nodes have a handful of children, and a map per
    /// node would cost more memory than the whole table.
    literal: Vec<(&'static str, usize)>,
    param: Option<usize>,
    /// `(method, operation index)` of templates ending here.
    ops: Vec<(&'static str, usize)>,
}

#[derive(Debug)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    p.strip_suffix('/').unwrap_or(p).split('/')
}

impl Trie {
    /// Indexes `(method, template)` pairs; the n-th pair's index is n.
    pub(crate) fn build<'a>(templates: impl Iterator<Item = (&'static str, &'static str)> + 'a) -> Trie {
        let mut nodes = vec![Node::default()];
        for (i, (method, template)) in templates.enumerate() {
            let mut at = 0;
            for seg in segments(template) {
                let next = nodes.len();
                let child = if seg.starts_with('{') && seg.ends_with('}') {
                    *nodes[at].param.get_or_insert(next)
                } else {
                    let lits = &mut nodes[at].literal;
                    match lits.binary_search_by(|(s, _)| (*s).cmp(seg)) {
                        Ok(i) => lits[i].1,
                        Err(i) => {
                            lits.insert(i, (seg, next));
                            next
                        }
                    }
                };
                if child == next {
                    nodes.push(Node::default());
                }
                at = child;
            }
            nodes[at].ops.push((method, i));
        }
        for n in &mut nodes {
            n.literal.shrink_to_fit();
            n.ops.shrink_to_fit();
        }
        nodes.shrink_to_fit();
        Trie { nodes }
    }

    /// The operation index for a method (any case) and a concrete path.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<usize> {
        let segs: Vec<&str> = segments(path).collect();
        if segs.iter().any(|s| s.is_empty()) {
            return None;
        }
        self.walk(0, &segs, method)
    }

    fn walk(&self, at: usize, segs: &[&str], method: &str) -> Option<usize> {
        let node = &self.nodes[at];
        let Some((seg, rest)) = segs.split_first() else {
            return node.ops.iter().find(|(m, _)| m.eq_ignore_ascii_case(method)).map(|(_, i)| *i);
        };
        node.literal
            .binary_search_by(|(s, _)| (*s).cmp(seg))
            .ok()
            .and_then(|i| self.walk(node.literal[i].1, rest, method))
            .or_else(|| node.param.and_then(|child| self.walk(child, rest, method)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_first_then_parameters() {
        let t = Trie::build(
            [
                ("GET", "/api/v2/users/{userId}"),
                ("GET", "/api/v2/users/search"),
                ("POST", "/api/v2/users/search"),
                ("DELETE", "/api/v2/users/{userId}"),
            ]
            .into_iter(),
        );
        assert_eq!(t.find("GET", "/api/v2/users/search"), Some(1));
        assert_eq!(t.find("GET", "/api/v2/users/u1"), Some(0));
        assert_eq!(t.find("DELETE", "/api/v2/users/search"), Some(3), "no DELETE on the literal: the parameter");
        assert_eq!(t.find("PUT", "/api/v2/users/u1"), None);
        assert_eq!(t.find("GET", "/api/v2/users/u1/"), Some(0));
        assert_eq!(t.find("GET", "/api/v2/users//x"), None);
        assert_eq!(t.find("GET", "/api/v2"), None);
    }
}
