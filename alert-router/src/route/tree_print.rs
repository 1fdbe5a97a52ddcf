//! `amtool config routes` output, byte for byte as amtool 0.25 prints it with
//! `github.com/xlab/treeprint`.
//!
//! A node's text is its matchers (`default-route` when it has none), then, separated
//! by two spaces, `continue: true` (in `show`) and `receiver: <name>` (in `show`, and
//! on the last matched node of `test --tree`). Branches are drawn with `├── `, `└── `,
//! and per open level `│` followed by two no-break spaces and a space; closed levels are
//! four spaces.

use alert_core::LabelSet;

use super::{Route, RoutingTree};

const SEPARATOR: &str = "  ";
const LINK: &str = "│\u{a0}\u{a0} ";
const ENDED: &str = "    ";
const MID: &str = "├──";
const END: &str = "└──";

/// A node of the tree to print: its text and its children.
struct PrintNode {
    text: String,
    children: Vec<PrintNode>,
}

fn slug(route: Route<'_>, show_continue: bool, show_receiver: bool) -> String {
    let mut s = if route.matchers().is_empty() {
        "default-route".to_owned()
    } else {
        route.matchers().to_string()
    };
    if show_continue && route.continues() {
        s.push_str(SEPARATOR);
        s.push_str("continue: true");
    }
    if show_receiver {
        s.push_str(SEPARATOR);
        s.push_str("receiver: ");
        s.push_str(route.receiver());
    }
    s
}

fn render(title: &str, top: &PrintNode) -> String {
    fn nodes(out: &mut String, level: usize, ended: &mut Vec<bool>, list: &[PrintNode]) {
        for (i, node) in list.iter().enumerate() {
            let last = i + 1 == list.len();
            for &closed in ended.iter().take(level) {
                out.push_str(if closed { ENDED } else { LINK });
            }
            out.push_str(if last { END } else { MID });
            out.push(' ');
            out.push_str(&node.text);
            out.push('\n');
            if !node.children.is_empty() {
                ended.truncate(level);
                ended.push(last);
                nodes(out, level + 1, ended, &node.children);
            }
        }
    }
    let mut out = String::new();
    out.push_str(title);
    out.push_str("\n.\n");
    nodes(&mut out, 0, &mut Vec::new(), std::slice::from_ref(top));
    out.push('\n');
    out
}

/// `amtool config routes show` (alias `amtool config routes`): the whole tree, every
/// node with its `continue` flag and receiver. The exact stdout of amtool 0.25.
///
/// ```
/// use alert_router::config::Config;
/// use alert_router::route::{RoutingTree, routing_tree};
///
/// let config = Config::from_yaml(
///     "route: {receiver: a, routes: [{receiver: b, matchers: ['x=\"1\"'], continue: true}]}\nreceivers: [{name: a}, {name: b}]\n",
/// )?;
/// let tree = RoutingTree::new(&config.route)?;
/// assert_eq!(
///     routing_tree(&tree),
///     "Routing tree:\n.\n└── default-route  receiver: a\n    └── {x=\"1\"}  continue: true  receiver: b\n\n",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn routing_tree(tree: &RoutingTree) -> String {
    fn build(route: Route<'_>) -> PrintNode {
        PrintNode {
            text: slug(route, true, true),
            children: route.children().map(build).collect(),
        }
    }
    render("Routing tree:", &build(tree.root()))
}

/// `amtool config routes test --tree`'s tree: the matched path, receivers on the nodes
/// where matching ended. The exact stdout amtool 0.25 prints before the receivers line
/// (including its blank lines).
pub fn matching_tree(tree: &RoutingTree, labels: &LabelSet) -> String {
    fn build(route: Route<'_>, labels: &LabelSet) -> PrintNode {
        let mut children = Vec::new();
        for child in route.children() {
            if child.tree.route_matches(child.id(), labels) {
                children.push(build(child, labels));
                if !child.continues() {
                    break;
                }
            }
        }
        let text = slug(route, false, children.is_empty());
        PrintNode { text, children }
    }
    let mut out = render("Matching routes:", &build(tree.root(), labels));
    out.push('\n');
    out
}
