//! The dependency graph of resources: every child depends on its organization.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};

use super::address::ResourceAddress;

/// A DAG over resource addresses with an edge parent → child. Nodes are inserted in address
/// order, so every traversal of the graph is deterministic.
#[derive(Debug, Clone, Default)]
pub struct ResourceGraph {
    graph: DiGraph<ResourceAddress, ()>,
    index: BTreeMap<ResourceAddress, NodeIndex>,
}

impl ResourceGraph {
    /// Builds the graph from addresses; the parent of every child must be among them.
    pub fn from_addresses(mut addresses: Vec<ResourceAddress>) -> Self {
        addresses.sort();
        addresses.dedup();
        let mut graph = ResourceGraph::default();
        for address in addresses {
            let node = graph.graph.add_node(address.clone());
            graph.index.insert(address, node);
        }
        let edges: Vec<(NodeIndex, NodeIndex)> = graph
            .index
            .iter()
            .filter(|(address, _)| address.parent() != **address)
            .filter_map(|(address, &child)| graph.index.get(&address.parent()).map(|&p| (p, child)))
            .collect();
        for (parent, child) in edges {
            graph.graph.add_edge(parent, child, ());
        }
        graph
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn contains(&self, address: &ResourceAddress) -> bool {
        self.index.contains_key(address)
    }

    /// The addresses `address` depends on directly.
    pub fn dependencies(&self, address: &ResourceAddress) -> Vec<&ResourceAddress> {
        let Some(&node) = self.index.get(address) else {
            return Vec::new();
        };
        self.graph
            .neighbors_directed(node, petgraph::Direction::Incoming)
            .map(|n| &self.graph[n])
            .collect()
    }

    /// Parents before children; among independent resources, address order.
    pub fn creation_order(&self) -> Vec<&ResourceAddress> {
        let order = petgraph::algo::toposort(&self.graph, None)
            .expect("a parent → child graph has no cycles");
        let mut depth: BTreeMap<&ResourceAddress, usize> = BTreeMap::new();
        for node in &order {
            let address = &self.graph[*node];
            let d = self
                .dependencies(address)
                .iter()
                .map(|p| depth.get(p).copied().unwrap_or(0) + 1)
                .max()
                .unwrap_or(0);
            depth.insert(address, d);
        }
        let mut sorted: Vec<&ResourceAddress> = depth.keys().copied().collect();
        sorted.sort_by_key(|a| (depth[a], (*a).clone()));
        sorted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::address::ResourceType;

    #[test]
    fn children_depend_on_their_organization_and_come_after_it() {
        let graph = ResourceGraph::from_addresses(vec![
            ResourceAddress::child("b", ResourceType::Domain, "b.io"),
            ResourceAddress::organization("b"),
            ResourceAddress::organization("a"),
            ResourceAddress::child("a", ResourceType::Member, "usr_1"),
        ]);
        assert_eq!(graph.len(), 4);
        let child = ResourceAddress::child("b", ResourceType::Domain, "b.io");
        assert_eq!(
            graph.dependencies(&child),
            vec![&ResourceAddress::organization("b")]
        );
        let order: Vec<String> = graph
            .creation_order()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            order,
            [
                "org.a",
                "org.b",
                "org.a.member[usr_1]",
                "org.b.domain[b.io]"
            ]
        );
    }
}
