//! The plan of `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` as a typed tree, with the per-loop
//! arithmetic done once.
//!
//! PostgreSQL reports `Actual Rows`, `Actual Startup Time`, `Actual Total Time`, `Rows Removed by
//! Filter` and `Rows Removed by Index Recheck` as averages per loop (per execution of the node),
//! while `Heap Fetches`, `Exact/Lossy Heap Blocks`, buffer counts and trigger times are totals.
//! Nodes below a `Gather` run in every worker and in the leader: their loops count each process,
//! so their wall-clock time is the per-loop time times loops divided by the processes.
//! <https://www.postgresql.org/docs/current/using-explain.html#USING-EXPLAIN-ANALYZE>

use serde_json::Value;

/// One `EXPLAIN` result.
#[derive(Debug, Clone)]
pub struct Explain {
    pub root: Node,
    /// `Planning Time`, ms (absent without ANALYZE or SUMMARY).
    pub planning_ms: Option<f64>,
    /// `Execution Time`, ms (absent without ANALYZE).
    pub execution_ms: Option<f64>,
    pub triggers: Vec<Trigger>,
    pub jit: Option<Jit>,
    /// Run with ANALYZE: actual rows and times are present.
    pub analyzed: bool,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub constraint: Option<String>,
    pub relation: Option<String>,
    /// Total time over all calls, ms.
    pub time_ms: f64,
    pub calls: f64,
}

impl Trigger {
    /// A referential-integrity trigger (foreign key check or action).
    pub fn is_foreign_key(&self) -> bool {
        self.name.starts_with("RI_ConstraintTrigger")
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Jit {
    pub functions: f64,
    /// Total JIT time (generation, inlining, optimization, emission), ms.
    pub total_ms: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Position in a pre-order walk (the root is 0).
    pub id: usize,
    pub node_type: String,
    pub strategy: Option<String>,
    pub join_type: Option<String>,
    pub parent_relationship: Option<String>,
    pub relation: Option<String>,
    pub schema: Option<String>,
    pub index_name: Option<String>,
    pub parallel_aware: bool,
    /// Estimated rows per loop.
    pub plan_rows: f64,
    /// Actual rows per loop (average).
    pub actual_rows: f64,
    pub loops: f64,
    /// Per loop, ms.
    pub total_ms: f64,
    pub filter: Option<String>,
    pub index_cond: Option<String>,
    pub recheck_cond: Option<String>,
    /// Per loop (average).
    pub removed_by_filter: f64,
    /// Per loop (average).
    pub removed_by_recheck: f64,
    /// Total.
    pub heap_fetches: Option<f64>,
    /// Total.
    pub exact_heap_blocks: f64,
    /// Total.
    pub lossy_heap_blocks: f64,
    pub sort_method: Option<String>,
    pub sort_space_type: Option<String>,
    pub sort_space_kb: f64,
    /// A parallel worker's sort went to disk.
    pub sort_on_disk_in_workers: bool,
    pub hash_batches: f64,
    pub original_hash_batches: f64,
    /// `HashAgg Batches` (PG13+).
    pub hashagg_batches: f64,
    /// `Disk Usage` of a hash aggregate, kB.
    pub disk_usage_kb: f64,
    pub workers_launched: f64,
    /// Processes that run this node (workers plus the leader below a `Gather`, else 1).
    pub processes: f64,
    /// Wall-clock time including children, ms (0 without ANALYZE).
    pub inclusive_ms: f64,
    /// Wall-clock time of this node alone, ms.
    pub exclusive_ms: f64,
    pub plans: Vec<Node>,
}

#[derive(Debug, thiserror::Error)]
#[error("not an EXPLAIN (FORMAT JSON) plan: {0}")]
pub struct PlanError(pub String);

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl Explain {
    /// Parses the JSON `EXPLAIN` prints: an array holding one object, or the object itself.
    pub fn parse(json: &Value) -> Result<Self, PlanError> {
        let top = match json {
            Value::Array(a) => a.first().ok_or_else(|| PlanError("empty array".into()))?,
            v => v,
        };
        let plan = top.get("Plan").ok_or_else(|| PlanError("no `Plan` key".into()))?;
        let analyzed = plan.get("Actual Loops").is_some();
        let mut next = 0;
        let mut root = Node::parse(plan, &mut next);
        if analyzed {
            root.derive(1.0);
        }
        let triggers = top
            .get("Triggers")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| Trigger {
                        name: s(t, "Trigger Name").unwrap_or_default(),
                        constraint: s(t, "Constraint Name"),
                        relation: s(t, "Relation"),
                        time_ms: f(t, "Time"),
                        calls: f(t, "Calls"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let jit = top.get("JIT").map(|j| {
            // PG17 nests `Generation` as `{"Deform": .., "Total": ..}`; `Total` is the sum either way.
            let total = j.get("Timing").map_or(0.0, |t| match t.get("Total") {
                Some(Value::Object(o)) => o.get("Total").and_then(Value::as_f64).unwrap_or(0.0),
                Some(v) => v.as_f64().unwrap_or(0.0),
                None => 0.0,
            });
            Jit { functions: f(j, "Functions"), total_ms: total }
        });
        Ok(Self {
            root,
            planning_ms: top.get("Planning Time").and_then(Value::as_f64),
            execution_ms: top.get("Execution Time").and_then(Value::as_f64),
            triggers,
            jit,
            analyzed,
        })
    }

    /// Parses the text of a JSON plan.
    pub fn parse_str(text: &str) -> Result<Self, PlanError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PlanError(e.to_string()))?;
        Self::parse(&v)
    }

    /// Every node, pre-order.
    pub fn nodes(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(n.plans.iter().rev());
        }
        out
    }

    /// Nodes by exclusive time, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<&Node> {
        let mut nodes = self.nodes();
        nodes.sort_by(|a, b| b.exclusive_ms.total_cmp(&a.exclusive_ms));
        nodes.truncate(n);
        nodes
    }
}

impl Node {
    fn parse(v: &Value, next: &mut usize) -> Self {
        let id = *next;
        *next += 1;
        let plans = v
            .get("Plans")
            .and_then(Value::as_array)
            .map(|ps| ps.iter().map(|p| Node::parse(p, next)).collect())
            .unwrap_or_default();
        Self {
            id,
            node_type: s(v, "Node Type").unwrap_or_default(),
            strategy: s(v, "Strategy"),
            join_type: s(v, "Join Type"),
            parent_relationship: s(v, "Parent Relationship"),
            relation: s(v, "Relation Name"),
            schema: s(v, "Schema"),
            index_name: s(v, "Index Name"),
            parallel_aware: v.get("Parallel Aware").and_then(Value::as_bool).unwrap_or(false),
            plan_rows: f(v, "Plan Rows"),
            actual_rows: f(v, "Actual Rows"),
            loops: f(v, "Actual Loops"),
            total_ms: f(v, "Actual Total Time"),
            filter: s(v, "Filter"),
            index_cond: s(v, "Index Cond"),
            recheck_cond: s(v, "Recheck Cond"),
            removed_by_filter: f(v, "Rows Removed by Filter"),
            removed_by_recheck: f(v, "Rows Removed by Index Recheck"),
            heap_fetches: v.get("Heap Fetches").and_then(Value::as_f64),
            exact_heap_blocks: f(v, "Exact Heap Blocks"),
            lossy_heap_blocks: f(v, "Lossy Heap Blocks"),
            sort_method: s(v, "Sort Method"),
            sort_space_type: s(v, "Sort Space Type"),
            sort_space_kb: f(v, "Sort Space Used"),
            sort_on_disk_in_workers: v
                .get("Workers")
                .and_then(Value::as_array)
                .is_some_and(|ws| ws.iter().any(|w| w.get("Sort Space Type").and_then(Value::as_str) == Some("Disk"))),
            hash_batches: f(v, "Hash Batches"),
            original_hash_batches: f(v, "Original Hash Batches"),
            hashagg_batches: f(v, "HashAgg Batches"),
            disk_usage_kb: f(v, "Disk Usage"),
            workers_launched: f(v, "Workers Launched"),
            processes: 1.0,
            inclusive_ms: 0.0,
            exclusive_ms: 0.0,
            plans,
        }
    }

    /// Fills `processes`, `inclusive_ms` and `exclusive_ms` bottom-up.
    fn derive(&mut self, processes: f64) {
        self.processes = processes;
        let below = if matches!(self.node_type.as_str(), "Gather" | "Gather Merge") {
            // The leader runs the plan too (parallel_leader_participation, on by default).
            self.workers_launched + 1.0
        } else {
            processes
        };
        for c in &mut self.plans {
            c.derive(below);
        }
        self.inclusive_ms = self.total_ms * self.loops / self.processes.max(1.0);
        let children: f64 = self.plans.iter().map(|c| c.inclusive_ms).sum();
        self.exclusive_ms = (self.inclusive_ms - children).max(0.0);
    }

    /// Rows produced over all loops.
    pub fn total_rows(&self) -> f64 {
        self.actual_rows * self.loops
    }

    /// Rows removed by the filter over all loops.
    pub fn total_removed_by_filter(&self) -> f64 {
        self.removed_by_filter * self.loops
    }

    pub fn total_removed_by_recheck(&self) -> f64 {
        self.removed_by_recheck * self.loops
    }

    /// Never executed (`(never executed)` in the text format).
    pub fn never_executed(&self) -> bool {
        self.loops == 0.0
    }

    pub fn is_seq_scan(&self) -> bool {
        matches!(self.node_type.as_str(), "Seq Scan")
    }

    /// `Seq Scan on appointments`, `Index Scan using appointments_pkey on appointments`, `Sort`.
    pub fn describe(&self) -> String {
        let mut d = match (&self.strategy, self.node_type.as_str()) {
            (Some(st), "Aggregate") => match st.as_str() {
                "Hashed" => "HashAggregate".to_owned(),
                "Sorted" => "GroupAggregate".to_owned(),
                "Mixed" => "MixedAggregate".to_owned(),
                _ => "Aggregate".to_owned(),
            },
            _ => self.node_type.clone(),
        };
        if let Some(j) = &self.join_type
            && j != "Inner"
        {
            d.push(' ');
            d.push_str(j);
            d.push_str(" Join");
            if d.ends_with("Join Join") {
                d.truncate(d.len() - 5);
            }
        }
        if let Some(i) = &self.index_name {
            d.push_str(&format!(" using {i}"));
        }
        if let Some(r) = &self.relation {
            d.push_str(" on ");
            if let Some(sc) = self.schema.as_deref().filter(|sc| *sc != "public") {
                d.push_str(sc);
                d.push('.');
            }
            d.push_str(r);
        }
        d
    }

    /// Nodes of this subtree, pre-order.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            out.push(n);
            stack.extend(n.plans.iter().rev());
        }
        out
    }
}

/// Column names compared in a condition such as `((status = 'x'::text) AND (org_id = 3))`,
/// without the values (which may be patient data).
pub fn condition_columns(cond: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let b = cond.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            // Skip a literal ('' escapes a quote).
            i = crate::parse::lex::skip_quoted(b, i, b'\'', false);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'"' {
            let start = i;
            if c == b'"' {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                i += 1;
            } else {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                    i += 1;
                }
            }
            let word = &cond[start..i.min(b.len())];
            // Skip `::type` casts, function calls and keywords; keep identifiers before operators.
            let prev_cast = start >= 2 && &cond[start - 2..start] == "::";
            let rest = cond[i.min(b.len())..].trim_start();
            let is_call = rest.starts_with('(');
            let kw = matches!(
                word.to_ascii_uppercase().as_str(),
                "AND"
                    | "OR"
                    | "NOT"
                    | "IS"
                    | "NULL"
                    | "TRUE"
                    | "FALSE"
                    | "ANY"
                    | "ALL"
                    | "IN"
                    | "LIKE"
                    | "ILIKE"
                    | "SUBPLAN"
                    | "HASHED"
                    | "ARRAY"
                    | "CASE"
                    | "WHEN"
                    | "THEN"
                    | "ELSE"
                    | "END"
                    | "DISTINCT"
                    | "FROM"
            );
            let followed_by_op = rest.starts_with(['=', '<', '>', '!', '~']) || rest.starts_with("IS ");
            if !prev_cast && !is_call && !kw && followed_by_op {
                let name = word.rsplit('.').next().unwrap_or(word).trim_matches('"').to_owned();
                if !name.starts_with('$') && !out.contains(&name) {
                    out.push(name);
                }
            }
            continue;
        }
        i += 1;
    }
    out
}

/// The plan JSON with literal values replaced by `?` in every expression (filters, conditions,
/// sort keys, output lists), so that values from the query or its parameters never reach output.
pub fn redact_values(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_expression_key(k) => Value::String(redact_expression(s)),
                        Value::Array(a) if is_expression_key(k) => Value::Array(
                            a.iter()
                                .map(|x| match x {
                                    Value::String(s) => Value::String(redact_expression(s)),
                                    other => redact_values(other),
                                })
                                .collect(),
                        ),
                        other => redact_values(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_values).collect()),
        other => other.clone(),
    }
}

fn is_expression_key(k: &str) -> bool {
    k.ends_with("Cond")
        || k.ends_with("Filter")
        || k.ends_with("Key")
        || matches!(
            k,
            "Output" | "Filter" | "Function Call" | "Table Function Call" | "Repeatable Seed" | "Sampling Parameters"
        )
}

/// Replaces quoted literals and numbers in an expression with `?`.
pub fn redact_expression(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            i = crate::parse::lex::skip_quoted(b, i, b'\'', false);
            out.push_str("'?'");
            continue;
        }
        if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push_str(&s[start..i]);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            out.push_str(&s[start..i]);
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'e' || b[i] == b'E') {
                i += 1;
            }
            out.push('?');
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_loop_arithmetic() {
        let e = Explain::parse_str(
            r#"[{"Plan": {"Node Type": "Nested Loop", "Actual Rows": 10, "Actual Loops": 1, "Actual Total Time": 12.0,
                "Plan Rows": 10, "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "a", "Actual Rows": 10, "Actual Loops": 1, "Actual Total Time": 2.0, "Plan Rows": 10},
                {"Node Type": "Index Scan", "Relation Name": "b", "Index Name": "b_pkey", "Actual Rows": 1, "Actual Loops": 10,
                 "Actual Total Time": 0.5, "Plan Rows": 1, "Rows Removed by Filter": 3}]},
               "Planning Time": 0.2, "Execution Time": 12.5}]"#,
        )
        .unwrap();
        let inner = &e.root.plans[1];
        assert_eq!(inner.total_rows(), 10.0);
        assert_eq!(inner.total_removed_by_filter(), 30.0);
        assert!((inner.inclusive_ms - 5.0).abs() < 1e-9);
        assert!((e.root.exclusive_ms - 5.0).abs() < 1e-9);
        assert_eq!(inner.describe(), "Index Scan using b_pkey on b");
    }

    #[test]
    fn parallel_nodes_count_processes() {
        let e = Explain::parse_str(
            r#"{"Plan": {"Node Type": "Gather", "Workers Launched": 2, "Actual Rows": 30, "Actual Loops": 1, "Actual Total Time": 40.0,
                "Plans": [{"Node Type": "Seq Scan", "Relation Name": "a", "Parallel Aware": true, "Actual Rows": 10,
                "Actual Loops": 3, "Actual Total Time": 36.0}]}}"#,
        )
        .unwrap();
        let scan = &e.root.plans[0];
        assert_eq!(scan.total_rows(), 30.0);
        assert!((scan.inclusive_ms - 36.0).abs() < 1e-9);
        assert!((e.root.exclusive_ms - 4.0).abs() < 1e-9);
    }

    #[test]
    fn columns_without_values() {
        assert_eq!(
            condition_columns("((status = 'no''show'::text) AND (a.org_id = 3) AND (lower(email) = $1))"),
            vec!["status", "org_id"]
        );
        assert_eq!(condition_columns("(ends_at IS NULL)"), vec!["ends_at"]);
        assert_eq!(
            condition_columns("(ends_at < '2023-02-01 00:00:00+00'::timestamp with time zone)"),
            vec!["ends_at"]
        );
    }

    #[test]
    fn values_are_redacted() {
        assert_eq!(
            redact_expression("((last_name = 'O''Brien'::text) AND (id = 42) AND (col2 > $1))"),
            "((last_name = '?'::text) AND (id = ?) AND (col2 > $1))"
        );
    }
}
