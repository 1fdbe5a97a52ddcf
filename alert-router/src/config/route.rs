//! A node of the routing tree, as `alertmanager.yml` writes it (`config.Route`).

use std::collections::BTreeMap;

use alert_core::Duration;

/// The `group_by` value that groups by every label.
pub const GROUP_BY_ALL: &str = "...";

/// One route: which alerts it takes (matchers), where they go (receiver), how they are
/// grouped and timed, and its child routes.
///
/// Fields hold what the configuration says; `None` (or an empty list) means "not set",
/// and for the options a child inherits (receiver, `group_by`, the three timers) "inherit
/// from the parent". Matchers are kept as written (`matchers` strings, `match` and
/// `match_re` maps) and parsed when the configuration is validated or compiled.
///
/// ```
/// use alert_router::config::Route;
///
/// let mut root = Route::new("default");
/// root.group_by = Some(vec!["alertname".into(), "cluster".into()]);
/// let mut db = Route::with_matchers(["team=\"db\""]);
/// db.receiver = Some("db-pager".into());
/// db.r#continue = true;
/// root.routes.push(db);
/// assert_eq!(root.routes[0].matchers, vec!["team=\"db\"".to_string()]);
/// assert!(!root.routes[0].is_catch_all());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The receiver alerts of this route go to; `None` or `""` inherits the parent's.
    pub receiver: Option<String>,
    /// Label names to group by, as written; `["..."]` groups by all labels. `None`
    /// inherits; in Alertmanager 0.25 an empty list inherits too. See [`Route::grouping`].
    pub group_by: Option<Vec<String>>,
    /// Whether matching continues with the following siblings after this route matched.
    pub r#continue: bool,
    /// Deprecated equality matchers (`match:`), label name to value.
    pub r#match: BTreeMap<String, String>,
    /// Deprecated regex matchers (`match_re:`), label name to (unanchored) regex.
    pub match_re: BTreeMap<String, String>,
    /// Matcher strings (`matchers:`), each possibly holding several comma-separated
    /// matchers in the classic grammar (`foo="bar",baz=~"x.*"`).
    pub matchers: Vec<String>,
    /// Names of time intervals during which this route's notifications are muted. Not
    /// inherited.
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside which this route's notifications are muted. Not
    /// inherited.
    pub active_time_intervals: Vec<String>,
    /// Child routes, in order.
    pub routes: Vec<Route>,
    /// How long to wait before the first notification of a new group; inherited.
    pub group_wait: Option<Duration>,
    /// How long to wait before notifying about alerts added to a group; inherited.
    pub group_interval: Option<Duration>,
    /// How long to wait before repeating a notification; inherited.
    pub repeat_interval: Option<Duration>,
}

/// How a route groups alerts, as Alertmanager 0.25 reads its `group_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping<'a> {
    /// Not set (or set to an empty list): the parent's grouping applies.
    Inherit,
    /// `group_by: ['...']`: every label.
    All,
    /// These label names, in the order written.
    Labels(&'a [String]),
}

impl Route {
    /// A route sending to `receiver`, with nothing else set (the usual root).
    pub fn new(receiver: impl Into<String>) -> Route {
        Route {
            receiver: Some(receiver.into()),
            ..Route::default()
        }
    }

    /// A route with these `matchers` strings and nothing else set.
    pub fn with_matchers<I, S>(matchers: I) -> Route
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Route {
            matchers: matchers.into_iter().map(Into::into).collect(),
            ..Route::default()
        }
    }

    /// The receiver this route names itself, treating `""` as unset like Alertmanager.
    pub fn own_receiver(&self) -> Option<&str> {
        self.receiver.as_deref().filter(|r| !r.is_empty())
    }

    /// How this route groups, as Alertmanager 0.25 reads `group_by`.
    ///
    /// ```
    /// use alert_router::config::{Grouping, Route};
    /// let mut r = Route::default();
    /// assert_eq!(r.grouping(), Grouping::Inherit);
    /// r.group_by = Some(vec![]);
    /// assert_eq!(r.grouping(), Grouping::Inherit);
    /// r.group_by = Some(vec!["...".into()]);
    /// assert_eq!(r.grouping(), Grouping::All);
    /// r.group_by = Some(vec!["a".into()]);
    /// assert!(matches!(r.grouping(), Grouping::Labels(l) if l == ["a"]));
    /// ```
    pub fn grouping(&self) -> Grouping<'_> {
        match self.group_by.as_deref() {
            None | Some([]) => Grouping::Inherit,
            Some(names) if names.iter().any(|n| n == GROUP_BY_ALL) => Grouping::All,
            Some(names) => Grouping::Labels(names),
        }
    }

    /// Whether the route has no matchers at all, so it takes every alert that reaches it
    /// (`matchers` strings such as `{}` that hold no matcher do not count).
    pub fn is_catch_all(&self) -> bool {
        self.r#match.is_empty() && self.match_re.is_empty() && !self.has_matcher_strings()
    }

    /// Whether some `matchers` string holds at least one matcher (a string that does not
    /// parse counts as holding one).
    pub fn has_matcher_strings(&self) -> bool {
        self.matchers.iter().any(|m| {
            alert_core::parse_matchers(m, alert_core::ParserMode::Classic)
                .map_or(true, |parsed| !parsed.is_empty())
        })
    }

    /// Every route of the tree below and including this one, depth first in config order,
    /// with its path (`route`, `route.routes[0]`, ...) relative to `prefix`.
    pub fn walk<'a>(&'a self, prefix: &str, visit: &mut dyn FnMut(&str, &'a Route)) {
        visit(prefix, self);
        for (i, child) in self.routes.iter().enumerate() {
            child.walk(&format!("{prefix}.routes[{i}]"), visit);
        }
    }

    /// The number of routes in the tree below and including this one.
    pub fn count(&self) -> usize {
        1 + self.routes.iter().map(Route::count).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_ignores_empty_matcher_strings() {
        assert!(Route::default().is_catch_all());
        assert!(Route::with_matchers(["{}", "", "{", "}"]).is_catch_all());
        assert!(!Route::with_matchers(["a=b"]).is_catch_all());
        let mut r = Route::default();
        r.r#match.insert("a".into(), "b".into());
        assert!(!r.is_catch_all());
    }

    #[test]
    fn own_receiver_treats_empty_as_unset() {
        let mut r = Route::new("");
        assert_eq!(r.own_receiver(), None);
        r.receiver = Some("x".into());
        assert_eq!(r.own_receiver(), Some("x"));
    }

    #[test]
    fn walk_visits_depth_first_with_paths() {
        let mut root = Route::new("a");
        let mut c0 = Route::default();
        c0.routes.push(Route::default());
        root.routes.push(c0);
        root.routes.push(Route::default());
        let mut paths = Vec::new();
        root.walk("route", &mut |p, _| paths.push(p.to_owned()));
        assert_eq!(
            paths,
            [
                "route",
                "route.routes[0]",
                "route.routes[0].routes[0]",
                "route.routes[1]"
            ]
        );
        assert_eq!(root.count(), 4);
    }
}
