//! Keyset windows over ids that only grow, as every paged list (timelines, notifications,
//! follower lists) reads them.
//!
//! A window is written into SQL with only the bounds it has, so each shape of window is
//! its own prepared statement with a plan PostgreSQL can keep. A `($n IS NULL OR id < $n)`
//! form is re-planned on every page, and its generic plan scans the whole table.

/// A keyset window over ids. `max_id` = older than; `since_id` = newer than (newest
/// first); `min_id` = newer than, oldest first (the page right after it, no gap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

/// A window as SQL on one column: ` AND col < $n AND col > $m` (the bounds given), the
/// direction to read in, the limit's parameter, and the values for those parameters.
#[derive(Debug)]
pub(super) struct Keyset {
    pub bounds: String,
    /// Read oldest first (`min_id`): the rows must be turned round.
    pub ascending: bool,
    pub limit: String,
    /// Bind these, in order, after the statement's first `first - 1` parameters.
    pub values: Vec<i64>,
}

impl Window {
    /// (lower bound, ascending?): `min_id` reads oldest first from just after it.
    fn lower(&self) -> (Option<i64>, bool) {
        match (self.min_id, self.since_id) {
            (Some(min), Some(since)) => (Some(min.max(since)), true),
            (Some(min), None) => (Some(min), true),
            (None, since) => (since, false),
        }
    }

    /// The window on `col`, its parameters numbered from `$first`.
    pub(super) fn keyset(&self, col: &str, first: usize) -> Keyset {
        let (lower, ascending) = self.lower();
        let mut values = Vec::new();
        let mut bounds = String::new();
        for (op, value) in [("<", self.max_id), (">", lower)] {
            if let Some(value) = value {
                values.push(value);
                bounds.push_str(&format!(" AND {col} {op} ${}", first + values.len() - 1));
            }
        }
        values.push(self.limit);
        Keyset {
            bounds,
            ascending,
            limit: format!("${}", first + values.len() - 1),
            values,
        }
    }
}

impl Keyset {
    /// `ASC` or `DESC`, for `ORDER BY`.
    pub fn order(&self) -> &'static str {
        if self.ascending {
            "ASC"
        } else {
            "DESC"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_has_only_the_bounds_it_was_given_numbered_from_first() {
        let all = Window {
            limit: 20,
            ..Window::default()
        };
        let k = all.keyset("s.id", 3);
        assert_eq!(
            (k.bounds.as_str(), k.order(), k.limit.as_str()),
            ("", "DESC", "$3")
        );
        assert_eq!(k.values, vec![20]);

        let older = Window {
            max_id: Some(900),
            limit: 5,
            ..Window::default()
        };
        let k = older.keyset("n.id", 2);
        assert_eq!(
            (k.bounds.as_str(), k.order(), k.limit.as_str()),
            (" AND n.id < $2", "DESC", "$3")
        );
        assert_eq!(k.values, vec![900, 5]);

        let between = Window {
            max_id: Some(900),
            since_id: Some(100),
            limit: 5,
            ..Window::default()
        };
        let k = between.keyset("a.id", 1);
        assert_eq!(k.bounds, " AND a.id < $1 AND a.id > $2");
        assert_eq!((k.order(), k.limit.as_str()), ("DESC", "$3"));
        assert_eq!(k.values, vec![900, 100, 5]);
    }

    #[test]
    fn min_id_reads_oldest_first_from_the_later_of_min_and_since() {
        let w = Window {
            min_id: Some(100),
            since_id: Some(300),
            limit: 5,
            ..Window::default()
        };
        let k = w.keyset("s.id", 1);
        assert_eq!((k.bounds.as_str(), k.order()), (" AND s.id > $1", "ASC"));
        assert!(k.ascending);
        assert_eq!(k.values, vec![300, 5]);
        let since_only = Window {
            since_id: Some(300),
            limit: 5,
            ..Window::default()
        };
        assert_eq!(since_only.keyset("s.id", 1).order(), "DESC");
    }
}
