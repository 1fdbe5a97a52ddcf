//! Instrumentors and their registry: turning external objects into sensors and systems.
//!
//! An [`Instrumentor`] handles one or more [`Kind`]s; given a [`Request`] (a name and
//! parameters) it returns [`Component`]s: sensors, or systems of components. The
//! [`Registry`] finds instrumentors by kind:
//!
//! * registering several instrumentors for one kind composes them: the request then
//!   gives one all-of system named after the request, whose children are every member's
//!   components (member `i` is asked with the name `<name>[i]`, so names stay unique in
//!   the graph; Alpacalert names the composite `namespace/name` instead);
//! * a kind with no instrumentor is the error `no provider for kind=<kind>`;
//! * [`Registry::extend`] merges another registry in, composing where both have a kind.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::aggregation::Aggregation;
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::sensor::Sensor;

/// What an instrumentor makes.
#[derive(Clone)]
pub enum Component {
    /// A sensor node.
    Sensor {
        /// Its name in the graph.
        name: String,
        /// What it measures.
        kind: Kind,
        /// The implementation.
        sensor: Arc<dyn Sensor>,
    },
    /// A system node over other components.
    System {
        /// Its name in the graph.
        name: String,
        /// The kind it was instrumented from, if any.
        kind: Option<Kind>,
        /// How it judges its children.
        aggregation: Aggregation,
        /// Its children.
        children: Vec<Component>,
    },
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Component::Sensor { name, kind, .. } => write!(f, "Sensor({name}, {kind})"),
            Component::System {
                name,
                aggregation,
                children,
                ..
            } => write!(f, "System({name}, {aggregation}, {children:?})"),
        }
    }
}

impl Component {
    /// The component's name.
    pub fn name(&self) -> &str {
        match self {
            Component::Sensor { name, .. } | Component::System { name, .. } => name,
        }
    }

    /// The same component renamed.
    pub fn renamed(mut self, to: impl Into<String>) -> Component {
        match &mut self {
            Component::Sensor { name, .. } | Component::System { name, .. } => *name = to.into(),
        }
        self
    }
}

/// What to instrument: a name for the result and the instrumentor's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The name the result should carry in the graph.
    pub name: &'a str,
    /// The parameters (the graph file's mapping under the kind's key, as JSON).
    pub params: &'a serde_json::Value,
    /// Where the request was written (`sensors[3].http`), for errors.
    pub at: &'a str,
}

impl Request<'_> {
    /// Reads the parameters into `T`; a mismatch is an [`Error::Instrument`] naming
    /// the kind and where.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, kind: &Kind) -> Result<T> {
        T::deserialize(self.params).map_err(|e| Error::Instrument {
            kind: kind.to_string(),
            at: self.at.to_owned(),
            reason: e.to_string(),
        })
    }

    /// An [`Error::Instrument`] for this request.
    pub fn error(&self, kind: &Kind, reason: impl Into<String>) -> Error {
        Error::Instrument {
            kind: kind.to_string(),
            at: self.at.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Turns external objects of some kinds into components.
pub trait Instrumentor: Send + Sync {
    /// The kinds this instrumentor handles (used by [`Registry::register_all`]).
    fn kinds(&self) -> Vec<Kind>;

    /// Makes the components for one request. `registry` lets an instrumentor delegate
    /// sub-resources (`Pod#volume`) to whatever is registered for them.
    fn instrument(
        &self,
        registry: &Registry,
        kind: &Kind,
        request: &Request<'_>,
    ) -> Result<Vec<Component>>;
}

/// Instrumentors by kind.
///
/// ```
/// use alert_health_graph::{Component, Kind, Registry, Request};
/// use alert_health_graph::constant::ConstantInstrumentor;
///
/// let mut registry = Registry::new();
/// registry.register_all(std::sync::Arc::new(ConstantInstrumentor));
/// let kind = Kind::builtin("constant");
/// let params = serde_json::json!("failing");
/// let made = registry.instrument(&kind, &Request { name: "x", params: &params, at: "here" })?;
/// assert_eq!(made[0].name(), "x");
///
/// let missing = Kind::new("example.org", "Thing")?;
/// let err = registry.instrument(&missing, &Request { name: "y", params: &params, at: "here" });
/// assert_eq!(err.unwrap_err().to_string(), "no provider for kind=example.org:Thing");
/// # Ok::<(), alert_health_graph::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    by_kind: BTreeMap<Kind, Vec<Arc<dyn Instrumentor>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, v)| format!("{k} x{}", v.len()))
            .collect();
        write!(f, "Registry({kinds:?})")
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `instrumentor` for `kind`; a kind already registered becomes (or stays)
    /// a composite with one more member.
    pub fn register(&mut self, kind: Kind, instrumentor: Arc<dyn Instrumentor>) {
        self.by_kind.entry(kind).or_default().push(instrumentor);
    }

    /// Registers `instrumentor` for every kind it [handles](Instrumentor::kinds).
    pub fn register_all(&mut self, instrumentor: Arc<dyn Instrumentor>) {
        for kind in instrumentor.kinds() {
            self.register(kind, Arc::clone(&instrumentor));
        }
    }

    /// Registers everything `other` has (Alpacalert's `extend`).
    pub fn extend(&mut self, other: &Registry) {
        for (kind, list) in &other.by_kind {
            for i in list {
                self.register(kind.clone(), Arc::clone(i));
            }
        }
    }

    /// Every registered kind.
    pub fn kinds(&self) -> impl Iterator<Item = &Kind> {
        self.by_kind.keys()
    }

    /// How many instrumentors are registered for `kind`.
    pub fn count(&self, kind: &Kind) -> usize {
        self.by_kind.get(kind).map_or(0, Vec::len)
    }

    /// Instruments one request into one component: the only one made, else an all-of
    /// system named after the request over what was made (how a graph file's entry and
    /// an instrumentor's dependency become one node).
    pub fn instrument_one(&self, kind: &Kind, request: &Request<'_>) -> Result<Component> {
        let made = self.instrument(kind, request)?;
        Ok(match <[Component; 1]>::try_from(made) {
            Ok([one]) => one,
            Err(many) => Component::System {
                name: request.name.to_owned(),
                kind: Some(kind.clone()),
                aggregation: Aggregation::All,
                children: many,
            },
        })
    }

    /// Instruments one request with whatever is registered for `kind`.
    pub fn instrument(&self, kind: &Kind, request: &Request<'_>) -> Result<Vec<Component>> {
        let list = self.by_kind.get(kind).ok_or_else(|| Error::UnknownKind {
            kind: kind.to_string(),
        })?;
        match list.as_slice() {
            [only] => only.instrument(self, kind, request),
            members => {
                let mut children = Vec::new();
                for (i, member) in members.iter().enumerate() {
                    let name = format!("{}[{i}]", request.name);
                    let sub = Request {
                        name: &name,
                        ..*request
                    };
                    children.extend(member.instrument(self, kind, &sub)?);
                }
                Ok(vec![Component::System {
                    name: request.name.to_owned(),
                    kind: Some(kind.clone()),
                    aggregation: Aggregation::All,
                    children,
                }])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constant::ConstantSensor;
    use crate::state::State;

    /// Makes one constant sensor named after the request, in a fixed state.
    struct Fixed(State, &'static str);

    impl Instrumentor for Fixed {
        fn kinds(&self) -> Vec<Kind> {
            vec![Kind::new("example.org", self.1).expect("valid")]
        }

        fn instrument(&self, _: &Registry, kind: &Kind, r: &Request<'_>) -> Result<Vec<Component>> {
            Ok(vec![Component::Sensor {
                name: r.name.to_owned(),
                kind: kind.clone(),
                sensor: Arc::new(ConstantSensor::new(self.0)),
            }])
        }
    }

    fn request_for(registry: &Registry, kind: &str) -> Result<Vec<Component>> {
        let kind: Kind = kind.parse()?;
        let params = serde_json::Value::Null;
        registry.instrument(
            &kind,
            &Request {
                name: "obj",
                params: &params,
                at: "test",
            },
        )
    }

    #[test]
    fn one_instrumentor_is_used_directly() {
        let mut r = Registry::new();
        r.register_all(Arc::new(Fixed(State::Passing, "A")));
        let made = request_for(&r, "example.org:A").expect("registered");
        assert_eq!(format!("{made:?}"), "[Sensor(obj, example.org:A)]");
    }

    #[test]
    fn several_instrumentors_compose_into_one_flat_all_of() {
        let mut r = Registry::new();
        for state in [State::Passing, State::Failing, State::Unknown] {
            r.register_all(Arc::new(Fixed(state, "A")));
        }
        assert_eq!(r.count(&"example.org:A".parse().expect("valid")), 3);
        let made = request_for(&r, "example.org:A").expect("registered");
        assert_eq!(
            format!("{made:?}"),
            "[System(obj, all, [Sensor(obj[0], example.org:A), Sensor(obj[1], example.org:A), \
             Sensor(obj[2], example.org:A)])]"
        );
    }

    #[test]
    fn unknown_kinds_are_named_and_registries_merge() {
        let mut a = Registry::new();
        a.register_all(Arc::new(Fixed(State::Passing, "A")));
        let mut b = Registry::new();
        b.register_all(Arc::new(Fixed(State::Failing, "B")));
        b.register_all(Arc::new(Fixed(State::Failing, "A")));
        let err = request_for(&a, "example.org:B").unwrap_err();
        assert_eq!(err.to_string(), "no provider for kind=example.org:B");
        a.extend(&b);
        let kinds: Vec<String> = a.kinds().map(ToString::to_string).collect();
        assert_eq!(kinds, ["example.org:A", "example.org:B"]);
        assert_eq!(a.count(&"example.org:A".parse().expect("valid")), 2);
        assert!(request_for(&a, "example.org:B").is_ok());
    }
}
