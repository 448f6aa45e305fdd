//! WorkOS cursor pagination: `before`/`after` are object ids, `order` is
//! `asc`, `desc` or `normal` (treated as `desc`), `list_metadata` says where
//! the neighbouring pages start.

use ferry_wire::workos::model::{List, ListMetadata};

/// A list request: WorkOS cursors are object ids, `order` is `asc`/`desc`/`normal`.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: usize,
    pub before: Option<String>,
    pub after: Option<String>,
    pub descending: bool,
}

/// WorkOS cursor pagination over `items` in creation (= id) order. `after`
/// moves away from the start of the listing order, `before` towards it; a
/// cursor need not exist any more (ids are compared, not looked up).
/// Items are `(id, value)`; pass references and clone only the page
/// ([`map_page`]), which keeps walking 100,000 users page by page cheap.
pub(super) fn cursor_page<K: AsRef<str>, T>(mut items: Vec<(K, T)>, query: &ListQuery) -> List<T> {
    if query.descending {
        items.reverse();
    }
    // `comes_after(a, b)`: a is later than b in listing order.
    let comes_after = |a: &str, b: &str| if query.descending { a < b } else { a > b };
    let limit = query.limit.max(1);
    let (window, has_before, has_after) = if let Some(after) = &query.after {
        let start = items
            .iter()
            .position(|(id, _)| comes_after(id.as_ref(), after))
            .unwrap_or(items.len());
        let end = (start + limit).min(items.len());
        let has_after = end < items.len();
        (
            items.drain(start..end).collect::<Vec<_>>(),
            start > 0,
            has_after,
        )
    } else if let Some(before) = &query.before {
        let end = items
            .iter()
            .position(|(id, _)| !comes_after(before, id.as_ref()))
            .unwrap_or(items.len());
        let start = end.saturating_sub(limit);
        let has_after = end < items.len();
        (
            items.drain(start..end).collect::<Vec<_>>(),
            start > 0,
            has_after,
        )
    } else {
        let end = limit.min(items.len());
        let has_after = end < items.len();
        (items.drain(..end).collect::<Vec<_>>(), false, has_after)
    };
    let before = if has_before {
        window.first().map(|(id, _)| id.as_ref().to_owned())
    } else {
        None
    };
    let after = if has_after {
        window.last().map(|(id, _)| id.as_ref().to_owned())
    } else {
        None
    };
    List {
        object: "list".into(),
        data: window.into_iter().map(|(_, item)| item).collect(),
        list_metadata: ListMetadata { before, after },
    }
}

/// The same page with every item turned into `B` (e.g. a clone of a reference).
pub(super) fn map_page<A, B>(page: List<A>, f: impl FnMut(A) -> B) -> List<B> {
    List {
        object: page.object,
        data: page.data.into_iter().map(f).collect(),
        list_metadata: page.list_metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<(String, usize)> {
        (1..=n).map(|i| (format!("id_{i:03}"), i)).collect()
    }

    fn query(
        limit: usize,
        before: Option<&str>,
        after: Option<&str>,
        descending: bool,
    ) -> ListQuery {
        ListQuery {
            limit,
            before: before.map(Into::into),
            after: after.map(Into::into),
            descending,
        }
    }

    #[test]
    fn following_after_visits_everything_once() {
        for descending in [false, true] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = cursor_page(ids(7), &query(3, None, cursor.as_deref(), descending));
                seen.extend(page.data);
                match page.list_metadata.after {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            let mut expected: Vec<usize> = (1..=7).collect();
            if descending {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn exact_multiples_end_with_a_null_cursor() {
        let first = cursor_page(ids(4), &query(2, None, None, false));
        assert_eq!(first.data, [1, 2]);
        assert_eq!(first.list_metadata.after.as_deref(), Some("id_002"));
        let second = cursor_page(ids(4), &query(2, None, Some("id_002"), false));
        assert_eq!(second.data, [3, 4]);
        assert_eq!(second.list_metadata.after, None);
        assert_eq!(second.list_metadata.before.as_deref(), Some("id_003"));
        let back = cursor_page(ids(4), &query(2, Some("id_003"), None, false));
        assert_eq!(back.data, [1, 2]);
        assert_eq!(back.list_metadata.before, None);
    }

    #[test]
    fn a_cursor_past_the_end_gives_an_empty_page() {
        let page = cursor_page(ids(3), &query(10, None, Some("id_999"), false));
        assert!(page.data.is_empty());
        assert_eq!(page.list_metadata.after, None);
    }
}
