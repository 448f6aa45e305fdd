//! Whether a listing was read whole: the one check every paged listing of
//! Clerk (offsets and a `total_count`) and WorkOS (cursors) goes through
//! before anything is judged gone, deleted, undone or counted from it.
//!
//! A listing proves itself complete when its pages agree with the total
//! the server stated, every page moved forward (a cursor never handed out
//! twice, no object read twice) and it ended within a bounded number of
//! pages. A server that ignores `offset`, loops its cursor, or returns a
//! short page before the total is not followed further, and the listing
//! says why it is [`Incomplete`]; the caller then decides nothing from it.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use serde::Serialize;

/// Why a listing cannot be taken as the whole of what the server holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Incomplete {
    /// The pages ended before the total the first page stated.
    #[error("it stated {total} objects but its pages ended after {read}")]
    ShortOfTotal { read: u64, total: u64 },
    /// A page repeated an object already read: the server ignored the
    /// offset or cursor, or the listing shifted under the read.
    #[error("page {page} repeated an object an earlier page held")]
    RepeatedObject { page: u64 },
    /// A cursor handed out a second time would loop for ever.
    #[error("page {page} handed out a cursor it had handed out before")]
    RepeatedCursor { page: u64 },
    /// An empty page that still offered a next cursor.
    #[error("page {page} was empty but offered another page")]
    EmptyPageWithCursor { page: u64 },
    /// More pages than any real listing has.
    #[error("it went past {max} pages")]
    TooManyPages { max: u64 },
}

/// The most pages a listing follows: 10,000,000 objects at 100 a page,
/// 50,000,000 at Clerk's 500.
pub const MAX_PAGES: u64 = 100_000;

/// What reading a listing came to: the objects, each once, and whether
/// they are all of them.
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub incomplete: Option<Incomplete>,
}

impl<T> Listed<T> {
    /// The objects, when the listing proved complete; otherwise why not.
    pub fn complete(self) -> Result<Vec<T>, Incomplete> {
        match self.incomplete {
            None => Ok(self.items),
            Some(why) => Err(why),
        }
    }
}

/// The check a listing's reader feeds page by page. Objects are kept as
/// 64-bit hashes of their ids: a collision can only call a listing
/// incomplete, never complete.
#[derive(Debug, Default)]
pub struct PageCheck {
    pages: u64,
    objects: HashSet<u64>,
    cursors: HashSet<u64>,
    problem: Option<Incomplete>,
}

/// Whether to ask for the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Go,
    Stop,
}

impl PageCheck {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one page: the objects not read before, in order, and whether
    /// to ask for the next page (`Stop` once the listing is known
    /// incomplete). A page that repeats an object makes it incomplete.
    pub fn page<T>(&mut self, items: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, Next) {
        self.pages += 1;
        let count = items.len();
        let fresh: Vec<T> = items
            .into_iter()
            .filter(|item| self.objects.insert(key(id(item))))
            .collect();
        if fresh.len() < count {
            self.fail(Incomplete::RepeatedObject { page: self.pages });
        } else if self.pages >= MAX_PAGES {
            self.fail(Incomplete::TooManyPages { max: MAX_PAGES });
        }
        (fresh, self.next())
    }

    /// Takes the cursor a page offered (`None`: the listing ended there);
    /// the cursor to follow, if the listing may go on.
    pub fn cursor(&mut self, page_was_empty: bool, next: Option<String>) -> Option<String> {
        let next = next?;
        if page_was_empty {
            self.fail(Incomplete::EmptyPageWithCursor { page: self.pages });
        } else if !self.cursors.insert(key(&next)) {
            self.fail(Incomplete::RepeatedCursor { page: self.pages });
        }
        (self.next() == Next::Go).then_some(next)
    }

    /// Checks the objects read against the total the server stated.
    pub fn against_total(&mut self, total: u64) {
        let read = self.objects.len() as u64;
        if read < total {
            self.fail(Incomplete::ShortOfTotal { read, total });
        }
    }

    /// How many distinct objects were read.
    pub fn read(&self) -> u64 {
        self.objects.len() as u64
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    fn fail(&mut self, why: Incomplete) {
        self.problem.get_or_insert(why);
    }

    fn next(&self) -> Next {
        if self.problem.is_some() {
            Next::Stop
        } else {
            Next::Go
        }
    }

    /// The objects, each once, with the verdict.
    pub fn finish<T>(self, items: Vec<T>) -> Listed<T> {
        Listed {
            items,
            incomplete: self.problem,
        }
    }

    /// The verdict alone, for a reader that handed the objects on.
    pub fn verdict(self) -> Option<Incomplete> {
        self.problem
    }
}

fn key(id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case: its name, its pages (ids and the cursor each offered), the
    /// stated total, and the verdict expected.
    type Case = (
        &'static str,
        Vec<(&'static [&'static str], Option<&'static str>)>,
        Option<u64>,
        Option<Incomplete>,
    );

    /// Feeds pages of ids (and the cursor each offered) and says what the check concluded.
    fn read(pages: &[(&[&str], Option<&str>)], total: Option<u64>) -> (u64, Option<Incomplete>) {
        let mut check = PageCheck::new();
        for (ids, cursor) in pages {
            if check.page(ids.to_vec(), |id| *id).1 == Next::Stop {
                break;
            }
            if check
                .cursor(ids.is_empty(), cursor.map(str::to_owned))
                .is_none()
            {
                break;
            }
        }
        if let Some(total) = total {
            check.against_total(total);
        }
        let read = check.read();
        (read, check.finish(Vec::<()>::new()).incomplete)
    }

    #[test]
    fn only_pages_that_move_forward_and_reach_the_total_are_complete() {
        let cases: Vec<Case> = vec![
            (
                "two pages then the end",
                vec![(&["a", "b"], Some("b")), (&["c"], None)],
                Some(3),
                None,
            ),
            (
                "a short page before the total",
                vec![(&["a", "b"], None)],
                Some(30),
                Some(Incomplete::ShortOfTotal { read: 2, total: 30 }),
            ),
            (
                "an offset the server ignores",
                vec![(&["a", "b"], Some("x")), (&["a", "b"], Some("y"))],
                None,
                Some(Incomplete::RepeatedObject { page: 2 }),
            ),
            (
                "a cursor handed out again",
                vec![(&["a"], Some("c1")), (&["b"], Some("c1")), (&["c"], None)],
                None,
                Some(Incomplete::RepeatedCursor { page: 2 }),
            ),
            (
                "an empty page with a cursor",
                vec![(&["a"], Some("c1")), (&[], Some("c2"))],
                None,
                Some(Incomplete::EmptyPageWithCursor { page: 2 }),
            ),
            ("an empty listing", vec![(&[], None)], Some(0), None),
        ];
        for (name, pages, total, expected) in cases {
            let (_, verdict) = read(&pages, total);
            assert_eq!(verdict, expected, "{name}");
        }
    }

    #[test]
    fn a_listing_that_never_ends_stops_at_the_page_bound() {
        let mut check = PageCheck::new();
        let mut pages = 0u64;
        loop {
            let id = pages.to_string();
            pages += 1;
            if check.page(vec![id.as_str()], |id| *id).1 == Next::Stop {
                break;
            }
            if check.cursor(false, Some(format!("c{pages}"))).is_none() {
                break;
            }
        }
        assert_eq!(pages, MAX_PAGES);
        assert_eq!(
            check.finish(Vec::<()>::new()).incomplete,
            Some(Incomplete::TooManyPages { max: MAX_PAGES })
        );
    }

    #[test]
    fn a_page_keeps_each_object_once_in_order() {
        let mut check = PageCheck::new();
        assert_eq!(
            check.page(vec!["a", "b"], |s| *s),
            (vec!["a", "b"], Next::Go)
        );
        assert_eq!(
            check.page(vec!["b", "c", "a"], |s| *s),
            (vec!["c"], Next::Stop)
        );
        assert_eq!(check.read(), 3);
    }
}
