//! n8n workflow exports (`n8n export:workflow`, the editor's "Download") into
//! Weft definitions. The mapping is docs/IMPORT.md's: data nodes (Edit
//! Fields, Code, Split Out, the item routing of If and Switch, Merge) become
//! `code` steps that keep n8n's item semantics in JavaScript, with n8n's names
//! (`$json`, `$input`, `$('Node')`) bound by a prelude; triggers, branches,
//! waits, sub-workflows, responses and connectors become their Weft kinds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::{ImportError, Imported, Note};

/// The JavaScript every imported code step starts with.
const PRELUDE: &str = include_str!("prelude.js");

/// How an import resolves what lies outside the export.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// n8n workflow id -> Weft workflow id, for Execute Workflow nodes.
    pub workflows: BTreeMap<String, String>,
}

/// Imports one n8n workflow export.
pub fn import(export: &Value, options: &Options) -> Result<Imported, ImportError> {
    let nodes = export
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError("not an n8n workflow export: it has no `nodes` list".into()))?;
    let mut graph = Graph::default();
    for (i, n) in nodes.iter().enumerate() {
        let name = n["name"]
            .as_str()
            .ok_or_else(|| ImportError(format!("/nodes/{i}: a node without a `name`")))?;
        let kind = n["type"]
            .as_str()
            .ok_or_else(|| ImportError(format!("/nodes/{i} ({name}): a node without a `type`")))?;
        if n["disabled"].as_bool() == Some(true) {
            continue;
        }
        graph.nodes.insert(
            name.to_owned(),
            Node {
                kind: kind.rsplit('.').next().unwrap_or(kind).to_owned(),
                full_kind: kind.to_owned(),
                params: n["parameters"].clone(),
                credentials: n["credentials"].clone(),
            },
        );
        graph.order.push(name.to_owned());
    }
    if let Some(connections) = export.get("connections").and_then(Value::as_object) {
        for (from, outputs) in connections {
            let Some(main) = outputs.get("main").and_then(Value::as_array) else {
                continue;
            };
            for (out, targets) in main.iter().enumerate() {
                for t in targets.as_array().into_iter().flatten() {
                    let (Some(to), input) = (t["node"].as_str(), t["index"].as_u64().unwrap_or(0))
                    else {
                        continue;
                    };
                    if graph.nodes.contains_key(from) && graph.nodes.contains_key(to) {
                        graph.edges.push(Edge {
                            from: from.clone(),
                            out: out as u32,
                            to: to.to_owned(),
                            input: input as u32,
                        });
                    }
                }
            }
        }
    }
    let mut b = Builder {
        graph: &graph,
        options,
        ids: HashMap::new(),
        used: BTreeSet::new(),
        outputs: HashMap::new(),
        lists: BTreeMap::new(),
        loops: HashMap::new(),
        notes: Vec::new(),
        triggers: Map::new(),
        hosts: BTreeSet::new(),
        credentials: BTreeMap::new(),
        last_mode: false,
    };
    let name = export["name"]
        .as_str()
        .unwrap_or("imported from n8n")
        .to_owned();
    b.build()?;
    let mut steps = b.lists.remove(&None).unwrap_or_default();
    // A loop step gets its body list.
    for step in &mut steps {
        b.fill_bodies(step);
    }
    if steps.is_empty() {
        return Err(ImportError(
            "the workflow has no node after its trigger: nothing to run".into(),
        ));
    }
    let mut def = Map::new();
    def.insert("name".into(), json!(name));
    if !b.triggers.is_empty() {
        def.insert("triggers".into(), Value::Object(b.triggers.clone()));
    }
    if !b.hosts.is_empty() || !b.credentials.is_empty() {
        let mut grants = Map::new();
        if !b.hosts.is_empty() {
            grants.insert("hosts".into(), json!(b.hosts));
        }
        def.insert("grants".into(), Value::Object(grants));
    }
    def.insert("steps".into(), Value::Array(steps));
    for (slot, n8n) in &b.credentials {
        b.notes.push(Note {
            node: String::new(),
            message: format!(
                "bind a credential to the slot `{slot}` (n8n used its credential `{n8n}`): create it with `weft credentials create` and add `grants.credentials: {{\"{slot}\": NAME}}`"
            ),
        });
    }
    Ok(Imported {
        definition: Value::Object(def),
        notes: b.notes,
    })
}

#[derive(Default)]
struct Graph {
    nodes: HashMap<String, Node>,
    order: Vec<String>,
    edges: Vec<Edge>,
}

struct Node {
    kind: String,
    full_kind: String,
    params: Value,
    credentials: Value,
}

struct Edge {
    from: String,
    out: u32,
    to: String,
    input: u32,
}

/// Where a node's items come from: the trigger (one item, the trigger
/// object), or a Weft expression giving an array of items.
#[derive(Clone, Debug)]
enum Items {
    Trigger,
    Expr(String),
}

impl Items {
    /// The `items` field of a code step.
    fn field(&self) -> String {
        match self {
            Self::Trigger => "trigger".into(),
            Self::Expr(e) => e.clone(),
        }
    }
}

struct Builder<'a> {
    graph: &'a Graph,
    options: &'a Options,
    /// n8n node name -> the Weft step id holding its items.
    ids: HashMap<String, String>,
    used: BTreeSet<String>,
    /// (node, output) -> the items it hands on.
    outputs: HashMap<(String, u32), Items>,
    /// Step lists: None is the top level, Some(loop step id) a loop's body.
    lists: BTreeMap<Option<String>, Vec<Value>>,
    /// Loop node name -> (its step id, the nodes of its body).
    loops: HashMap<String, (String, BTreeSet<String>)>,
    notes: Vec<Note>,
    triggers: Map<String, Value>,
    hosts: BTreeSet<String>,
    credentials: BTreeMap<String, String>,
    /// The webhook answers with the last node's first item.
    last_mode: bool,
}

const TRIGGERS: &[&str] = &[
    "webhook",
    "manualTrigger",
    "scheduleTrigger",
    "executeWorkflowTrigger",
    "cron",
];

impl Builder<'_> {
    fn build(&mut self) -> Result<(), ImportError> {
        let g = self.graph;
        let triggers: Vec<&String> = g
            .order
            .iter()
            .filter(|n| TRIGGERS.contains(&g.nodes[*n].kind.as_str()))
            .collect();
        let Some(trigger) = triggers.first().copied() else {
            return Err(ImportError(
                "the workflow has no trigger node Weft can map (Webhook, Schedule Trigger, Manual Trigger, Execute Workflow Trigger)".into(),
            ));
        };
        for other in &triggers[1..] {
            self.note(other, "a second trigger: a Weft workflow has one of each kind; this one and the nodes only it reaches are not imported");
        }
        self.trigger(trigger);
        // The nodes reachable from the trigger, in an order where every
        // node comes after the nodes it reads (the loops' back edges left out).
        self.find_loops(trigger);
        let order = self.topological(trigger);
        for name in &order[1..] {
            self.node(name)?;
        }
        for name in &g.order {
            if !order.contains(name) && !triggers.contains(&name) {
                self.note(name, "not reachable from the trigger: not imported");
            }
        }
        if self.last_mode {
            let sinks: Vec<&String> = order[1..]
                .iter()
                .filter(|n| !g.edges.iter().any(|e| &e.from == *n))
                .collect();
            if let [last] = sinks.as_slice() {
                let items = self.outputs.get(&((*last).clone(), 0)).cloned();
                let body = match items {
                    Some(Items::Expr(e)) => format!("{{{{ {e}[0] }}}}"),
                    _ => "{{ trigger }}".into(),
                };
                let id = self.fresh("respond");
                let after = vec![self.last_id(last, 0)];
                self.push(
                    None,
                    json!({"id": id, "kind": "respond", "after": after, "body": body}),
                );
            } else {
                self.note(trigger, "the webhook answers with the last node's data, and the workflow ends in several nodes: the run's output (its last step's) answers instead");
            }
        }
        Ok(())
    }

    fn trigger(&mut self, name: &str) {
        let node = &self.graph.nodes[name];
        let p = &node.params;
        self.ids.insert(name.to_owned(), String::new());
        let items = match node.kind.as_str() {
            "webhook" => {
                let mode = match p["responseMode"].as_str().unwrap_or("onReceived") {
                    "onReceived" => {
                        self.note(name, "answers at once: Weft's asynchronous webhook answers 202 with the run's id, not n8n's `{\"message\":\"Workflow was started\"}`");
                        "async"
                    }
                    "lastNode" => {
                        self.last_mode = true;
                        "sync"
                    }
                    _ => "sync",
                };
                self.triggers
                    .insert("webhook".into(), json!({"mode": mode}));
                if let Some(path) = p["path"].as_str() {
                    self.note(name, &format!("n8n's path `{path}` is not kept: the workflow's webhook URL is `/hooks/<token>`, shown when it is saved"));
                }
                Items::Trigger
            }
            "scheduleTrigger" | "cron" => {
                match schedule_cron(p) {
                    Some(cron) => {
                        self.triggers
                            .insert("schedule".into(), json!({"cron": cron}));
                    }
                    None => self.note(
                        name,
                        "the schedule's rule could not be read as a cron expression: add `triggers.schedule` by hand",
                    ),
                }
                Items::Trigger
            }
            // Called by a parent: the parent's items are `trigger.body`.
            "executeWorkflowTrigger" => Items::Expr("trigger.body".into()),
            _ => Items::Trigger,
        };
        for out in 0..4 {
            self.outputs.insert((name.to_owned(), out), items.clone());
        }
    }

    /// Which nodes are a loop's body: reachable from its output 1 without
    /// passing through the loop node again.
    fn find_loops(&mut self, trigger: &str) {
        let g = self.graph;
        for name in self.reachable(trigger) {
            if g.nodes[&name].kind != "splitInBatches" {
                continue;
            }
            let mut body = BTreeSet::new();
            let mut todo: Vec<String> = g
                .edges
                .iter()
                .filter(|e| e.from == name && e.out == 1)
                .map(|e| e.to.clone())
                .collect();
            while let Some(n) = todo.pop() {
                if n == name || !body.insert(n.clone()) {
                    continue;
                }
                todo.extend(g.edges.iter().filter(|e| e.from == n).map(|e| e.to.clone()));
            }
            let id = self.fresh(&name);
            self.loops.insert(name, (id, body));
        }
    }

    fn reachable(&self, from: &str) -> Vec<String> {
        let mut seen = vec![from.to_owned()];
        let mut i = 0;
        while i < seen.len() {
            let n = seen[i].clone();
            for e in self.graph.edges.iter().filter(|e| e.from == n) {
                if !seen.contains(&e.to) {
                    seen.push(e.to.clone());
                }
            }
            i += 1;
        }
        seen
    }

    fn is_back_edge(&self, e: &Edge) -> bool {
        self.loops
            .get(&e.to)
            .is_some_and(|(_, body)| body.contains(&e.from))
    }

    fn topological(&self, trigger: &str) -> Vec<String> {
        let reach = self.reachable(trigger);
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while order.len() < reach.len() {
            let before = order.len();
            for n in &reach {
                if done.contains(n) {
                    continue;
                }
                let ready = self
                    .graph
                    .edges
                    .iter()
                    .filter(|e| &e.to == n && !self.is_back_edge(e) && reach.contains(&e.from))
                    .all(|e| done.contains(&e.from));
                if ready {
                    done.insert(n.clone());
                    order.push(n.clone());
                }
            }
            if order.len() == before {
                // A cycle that is not a loop: the rest is reported, not imported.
                break;
            }
        }
        order
    }

    /// The body list a node belongs to (None: the top level).
    fn list_of(&self, name: &str) -> Option<String> {
        self.loops
            .values()
            .find(|(_, body)| body.contains(name))
            .map(|(id, _)| id.clone())
    }

    /// The ids of the steps a node's step waits for (in its own list).
    fn after_of(&self, name: &str) -> Vec<String> {
        let list = self.list_of(name);
        let mut after = Vec::new();
        for e in self
            .graph
            .edges
            .iter()
            .filter(|e| e.to == name && !self.is_back_edge(e))
        {
            let from = self.last_id(&e.from, e.out);
            if from.is_empty() {
                continue;
            }
            // Inside a loop body, the loop node itself is not a step of the body.
            if list.is_some()
                && self
                    .loops
                    .get(&e.from)
                    .is_some_and(|(id, _)| Some(id) == list.as_ref())
            {
                continue;
            }
            if !after.contains(&from) {
                after.push(from);
            }
        }
        after
    }

    /// The id of the step that finishes a node's output `out` (the step a
    /// successor waits for).
    fn last_id(&self, name: &str, out: u32) -> String {
        let node = &self.graph.nodes[name];
        match node.kind.as_str() {
            "if" | "switch" => format!("{}_route", self.ids[name]),
            "splitInBatches" if out == 0 => format!("{}_done", self.ids[name]),
            _ => self.ids.get(name).cloned().unwrap_or_default(),
        }
    }

    /// The items a node receives (on `input`).
    fn input(&self, name: &str, input: u32) -> Items {
        let list = self.list_of(name);
        let from: Vec<Items> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.to == name && e.input == input && !self.is_back_edge(e))
            .map(|e| {
                if list.is_some()
                    && self
                        .loops
                        .get(&e.from)
                        .is_some_and(|(id, _)| Some(id) == list.as_ref())
                {
                    Items::Expr("item".into())
                } else {
                    self.outputs
                        .get(&(e.from.clone(), e.out))
                        .cloned()
                        .unwrap_or(Items::Trigger)
                }
            })
            .collect();
        match from.as_slice() {
            [] => Items::Trigger,
            [one] => one.clone(),
            several => Items::Expr(
                several
                    .iter()
                    .map(Items::field)
                    .collect::<Vec<_>>()
                    .join(" ?? "),
            ),
        }
    }

    fn node(&mut self, name: &str) -> Result<(), ImportError> {
        let node = &self.graph.nodes[name];
        let kind = node.kind.clone();
        if !self.ids.contains_key(name) && !self.loops.contains_key(name) {
            let id = self.fresh(name);
            self.ids.insert(name.to_owned(), id);
        }
        if let Some((id, _)) = self.loops.get(name) {
            self.ids.insert(name.to_owned(), id.clone());
        }
        let id = self.ids[name].clone();
        let list = self.list_of(name);
        let after = self.after_of(name);
        let input = self.input(name, 0);
        let p = node.params.clone();
        match kind.as_str() {
            "set" => {
                let script = self.set_script(&p);
                self.code(name, list, &id, after, &input, &script);
            }
            "code" => {
                let js = self.refs(p["jsCode"].as_str().unwrap_or(""));
                let script = if p["mode"].as_str() == Some("runOnceForEachItem") {
                    format!(
                        "return items.map(($json, $itemIndex) => {{\n  const item = {{ json: $json }};\n  const __r = (() => {{\n{js}\n  }})();\n  return __out(__r)[0];\n}});"
                    )
                } else {
                    format!("const __r = (() => {{\n{js}\n}})();\nreturn __out(__r);")
                };
                self.code(name, list, &id, after, &input, &script);
            }
            "splitOut" => {
                let field = p["fieldToSplitOut"].as_str().unwrap_or("");
                let script = format!(
                    "const __f = {f};\nreturn items.flatMap(($json) => __items(__get($json, __f)).map((v) => ({{ [__f]: v }})));",
                    f = js_string(field)
                );
                self.code(name, list, &id, after, &input, &script);
            }
            "if" => {
                let test = self.conditions(&p["conditions"]);
                let script = format!(
                    "const __t = [], __f = [];\nitems.forEach(($json, $itemIndex) => ({test}) ? __t.push($json) : __f.push($json));\nreturn {{ true: __t, false: __f }};"
                );
                self.code(name, list.clone(), &id, after, &input, &script);
                let then = self.targets(name, 0);
                let els = self.targets(name, 1);
                let mut step = json!({"id": format!("{id}_route"), "kind": "condition", "after": [id],
                    "if": format!("length(steps.{id}.output[0].true) > 0")});
                if !then.is_empty() {
                    step["then"] = json!(then);
                }
                if !els.is_empty() {
                    step["else"] = json!(els);
                }
                self.push(list, step);
                self.outputs.insert(
                    (name.into(), 0),
                    Items::Expr(format!("steps.{id}.output[0].true")),
                );
                self.outputs.insert(
                    (name.into(), 1),
                    Items::Expr(format!("steps.{id}.output[0].false")),
                );
            }
            "switch" => {
                let rules = p["rules"]["values"].as_array().cloned().unwrap_or_default();
                let tests: Vec<String> = rules
                    .iter()
                    .map(|r| self.conditions(&r["conditions"]))
                    .collect();
                let fallback = match p["options"]["fallbackOutput"].as_str() {
                    Some("extra") => Some(rules.len()),
                    _ => p["options"]["fallbackOutput"].as_u64().map(|n| n as usize),
                };
                let outputs = rules.len() + usize::from(fallback == Some(rules.len()));
                let script = format!(
                    "const __o = Array.from({{ length: {outputs} }}, () => []);\nconst __tests = [{tests}];\nitems.forEach(($json, $itemIndex) => {{\n  const k = __tests.findIndex((t) => t($json, $itemIndex));\n  const at = k >= 0 ? k : {fb};\n  if (at >= 0) __o[at].push($json);\n}});\nreturn {{ outputs: __o, first: __o.findIndex((o) => o.length > 0) }};",
                    tests = tests
                        .iter()
                        .map(|t| format!("($json, $itemIndex) => ({t})"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    fb = fallback.map_or(-1, |f| f as i64),
                );
                self.code(name, list.clone(), &id, after, &input, &script);
                let mut cases = Vec::new();
                for out in 0..outputs {
                    let next = self.targets(name, out as u32);
                    if !next.is_empty() {
                        cases.push(json!({"equals": out, "next": next}));
                    }
                    self.outputs.insert(
                        (name.into(), out as u32),
                        Items::Expr(format!("steps.{id}.output[0].outputs[{out}]")),
                    );
                }
                self.push(
                    list,
                    json!({"id": format!("{id}_route"), "kind": "switch", "after": [id],
                    "value": format!("steps.{id}.output[0].first"), "cases": cases}),
                );
                return Ok(());
            }
            "merge" => {
                let a = self.input(name, 0);
                let b = self.input(name, 1);
                let mode = p["mode"].as_str().unwrap_or("append");
                let by = p["combineBy"].as_str().unwrap_or("");
                let other = js_items(&b);
                let script = match (mode, by) {
                    ("combine", "combineByPosition") => format!(
                        "const __b = __items({other});\nreturn items.map(($json, i) => ({{ ...$json, ...(__b[i] ?? {{}}) }}));"
                    ),
                    ("append", _) => format!("return [...items, ...__items({other})];"),
                    _ => {
                        self.note(
                            name,
                            &format!(
                                "Merge mode `{mode}` {by} is imported as append: check the result"
                            ),
                        );
                        format!("return [...items, ...__items({other})];")
                    }
                };
                self.code(name, list, &id, after, &a, &script);
            }
            "splitInBatches" => {
                let step = json!({"id": id, "kind": "loop", "after": after,
                    "items": format!("{{{{ {} }}}}", input.field()), "body": []});
                self.push(list.clone(), step);
                if p["batchSize"].as_u64().is_some_and(|n| n != 1) {
                    self.note(name, "batches of more than one item: each iteration of the Weft loop takes one item");
                }
                let done = format!("{id}_done");
                self.push(
                    list,
                    json!({"id": done, "kind": "code", "after": [id],
                    "items": format!("steps.{id}.output"),
                    "code": "// The loop's iterations' items, in order.\nreturn items.flat();"}),
                );
                self.outputs.insert(
                    (name.into(), 0),
                    Items::Expr(format!("steps.{done}.output")),
                );
                return Ok(());
            }
            "wait" => {
                let amount = p["amount"].as_f64().unwrap_or(1.0);
                let unit = p["unit"].as_str().unwrap_or("hours");
                let ms = amount
                    * match unit {
                        "seconds" => 1_000.0,
                        "minutes" => 60_000.0,
                        "days" => 86_400_000.0,
                        _ => 3_600_000.0,
                    };
                let step = match p["resume"].as_str() {
                    Some("webhook") | Some("form") => {
                        json!({"id": id, "kind": "wait", "after": after, "until": "resume"})
                    }
                    Some("timeInterval") | None => {
                        json!({"id": id, "kind": "wait", "after": after, "duration_ms": ms as u64})
                    }
                    Some(other) => {
                        self.note(
                            name,
                            &format!(
                                "Wait `{other}` is imported as a wait for the run's resume URL"
                            ),
                        );
                        json!({"id": id, "kind": "wait", "after": after, "until": "resume"})
                    }
                };
                self.push(list, step);
                self.pass_through(name, input);
                return Ok(());
            }
            "respondToWebhook" => {
                let status = p["options"]["responseCode"].as_u64().unwrap_or(200);
                let first = match &input {
                    Items::Trigger => "trigger".to_owned(),
                    Items::Expr(e) if e.contains("??") => {
                        // Several branches end here: one step picks the one that ran.
                        let pick = format!("{id}_items");
                        self.push(
                            list.clone(),
                            json!({"id": pick, "kind": "code", "after": after.clone(),
                            "items": e, "code": "return items;"}),
                        );
                        format!("steps.{pick}.output")
                    }
                    Items::Expr(e) => e.clone(),
                };
                let after = if first.starts_with(&format!("steps.{id}_items")) {
                    json!([format!("{id}_items")])
                } else {
                    json!(after)
                };
                let body = match p["respondWith"].as_str().unwrap_or("firstIncomingItem") {
                    "allIncomingItems" => json!(format!("{{{{ {first} }}}}")),
                    "firstIncomingItem" if first == "trigger" => json!("{{ trigger }}"),
                    "firstIncomingItem" => json!(format!("{{{{ {first}[0] }}}}")),
                    "noData" => Value::Null,
                    other => {
                        self.note(
                            name,
                            &format!(
                                "Respond With `{other}` is imported as the first incoming item"
                            ),
                        );
                        json!(format!("{{{{ {first}[0] }}}}"))
                    }
                };
                let mut step =
                    json!({"id": id, "kind": "respond", "after": after, "status": status});
                if !body.is_null() {
                    step["body"] = body;
                }
                self.push(list, step);
                self.pass_through(name, input);
                return Ok(());
            }
            "executeWorkflow" => {
                let source = p["workflowId"]["value"]
                    .as_str()
                    .or_else(|| p["workflowId"].as_str())
                    .unwrap_or("")
                    .to_owned();
                let workflow = match self.options.workflows.get(&source) {
                    Some(w) => w.clone(),
                    None => {
                        self.note(name, &format!("calls the n8n workflow `{source}`: import it first, then set this step's `workflow` to its Weft id (or pass `--workflow {source}=ID`)"));
                        format!("n8n:{source}")
                    }
                };
                self.push(
                    list,
                    json!({"id": id, "kind": "subworkflow", "after": after, "workflow": workflow,
                    "input": {"body": format!("{{{{ {} }}}}", input.field())}}),
                );
                // The child's output: its last step's, items when it was imported too.
                for out in 0..4 {
                    self.outputs.insert(
                        (name.to_owned(), out),
                        Items::Expr(format!("steps.{id}.output")),
                    );
                }
            }
            "httpRequest" => self.http(name, list, &id, after, &input, &p),
            "slack" => {
                let fields = json!({
                    "channel": p["channelId"]["value"].clone(),
                    "text": p["text"].clone(),
                });
                self.connector(
                    name,
                    list,
                    &id,
                    after,
                    &input,
                    &fields,
                    ("slack", "post-message"),
                );
                self.slot(name, "slack/bot-token");
            }
            "openAi" if node.full_kind.contains("langchain") => {
                let messages: Vec<Value> = p["responses"]["values"]
                    .as_array()
                    .or_else(|| p["messages"]["values"].as_array())
                    .into_iter()
                    .flatten()
                    .map(|m| json!({"role": m["role"].as_str().unwrap_or("user"), "content": m["content"].clone()}))
                    .collect();
                let fields = json!({"model": p["modelId"]["value"].clone(), "messages": messages});
                self.connector(name, list, &id, after, &input, &fields, ("llm", "chat"));
                self.slot(name, "llm/api-key");
                self.note(name, "OpenAI's answer is rebuilt in the shape of the Responses API (`output[0].content[0].text`); its ids and usage fields differ");
            }
            other => {
                self.note(name, &format!("the n8n node type `{}` has no Weft mapping yet: a code step that passes its items on stands in its place; replace it", self.graph.nodes[name].full_kind));
                let _ = other;
                self.code(name, list, &id, after, &input, "return items;");
            }
        }
        Ok(())
    }

    /// A node whose items are its input's (wait, respond).
    fn pass_through(&mut self, name: &str, input: Items) {
        for out in 0..4 {
            self.outputs.insert((name.to_owned(), out), input.clone());
        }
    }

    fn code(
        &mut self,
        name: &str,
        list: Option<String>,
        id: &str,
        after: Vec<String>,
        input: &Items,
        body: &str,
    ) {
        let script = format!("{PRELUDE}\n// n8n node: {name}\n{body}");
        self.push(list, json!({"id": id, "kind": "code", "after": after, "items": input.field(), "code": script}));
        for out in 0..4 {
            self.outputs.insert(
                (name.to_owned(), out),
                Items::Expr(format!("steps.{id}.output")),
            );
        }
    }

    /// A connector node: a code step evaluates its parameters for the first
    /// item (n8n's expressions are JavaScript), the action runs on them, and
    /// a code step turns its output into items.
    #[allow(clippy::too_many_arguments)]
    fn connector(
        &mut self,
        name: &str,
        list: Option<String>,
        id: &str,
        after: Vec<String>,
        input: &Items,
        fields: &Value,
        (connector, action): (&str, &str),
    ) {
        let params = format!("{id}_params");
        let js = self.js_value(fields);
        self.push(list.clone(), json!({"id": params, "kind": "code", "after": after, "items": input.field(),
            "code": format!("{PRELUDE}\n// n8n node: {name} (its parameters)\nconst $json = items[0], $itemIndex = 0;\nreturn {js};")}));
        let call = format!("{id}_call");
        self.push(
            list.clone(),
            json!({"id": call, "kind": "action", "after": [params], "connector": connector,
            "action": action, "input": format!("{{{{ steps.{params}.output[0] }}}}")}),
        );
        let shape = if connector == "llm" {
            "const r = items[0] ?? {};\nconst text = r.content ?? r.message?.content ?? r.text ?? '';\nreturn [{ output: [{ type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }] }];"
        } else {
            "return items;"
        };
        self.push(list, json!({"id": id, "kind": "code", "after": [call], "items": format!("steps.{call}.output"),
            "code": format!("{PRELUDE}\n// n8n node: {name} (its items)\n{shape}")}));
        for out in 0..4 {
            self.outputs.insert(
                (name.to_owned(), out),
                Items::Expr(format!("steps.{id}.output")),
            );
        }
    }

    fn http(
        &mut self,
        name: &str,
        list: Option<String>,
        id: &str,
        after: Vec<String>,
        input: &Items,
        p: &Value,
    ) {
        let mut fields = Map::new();
        fields.insert(
            "method".into(),
            p["method"]
                .clone()
                .as_str()
                .map_or(json!("GET"), |m| json!(m)),
        );
        fields.insert("url".into(), p["url"].clone());
        let pairs = |v: &Value| -> Value {
            let mut m = Map::new();
            for kv in v["parameters"].as_array().into_iter().flatten() {
                if let Some(k) = kv["name"].as_str() {
                    m.insert(k.to_owned(), kv["value"].clone());
                }
            }
            Value::Object(m)
        };
        if p["sendQuery"].as_bool() == Some(true) {
            fields.insert("query".into(), pairs(&p["queryParameters"]));
        }
        if p["sendHeaders"].as_bool() == Some(true) {
            fields.insert("headers".into(), pairs(&p["headerParameters"]));
        }
        if p["sendBody"].as_bool() == Some(true) {
            let body = if p["specifyBody"].as_str() == Some("json") {
                p["jsonBody"].clone()
            } else {
                pairs(&p["bodyParameters"])
            };
            fields.insert("json".into(), body);
        }
        // The host the node reaches, for the workflow's grants.
        let url = p["url"].as_str().unwrap_or("");
        let literal = url
            .trim_start_matches('=')
            .trim_start_matches("{{")
            .trim_start()
            .trim_start_matches(['"', '\'', '`']);
        let host = literal
            .split_once("://")
            .map(|(_, rest)| {
                rest.split(['/', '?', '#', '"', '\'', '`', ' ', '{'])
                    .next()
                    .unwrap_or("")
            })
            .filter(|h| !h.is_empty());
        match host {
            Some(h) => {
                self.hosts.insert(h.to_owned());
            }
            None => {
                self.hosts.insert("*".into());
                self.note(name, "its URL's host is computed: the workflow grants `*` (any public host); narrow `grants.hosts`");
            }
        }
        if p["authentication"].as_str().is_some_and(|a| a != "none") {
            self.slot(name, "http/auth");
            fields.insert("credential".into(), json!(true));
        }
        self.connector(
            name,
            list,
            id,
            after,
            input,
            &Value::Object(fields),
            ("http", "request"),
        );
        // n8n's items of an HTTP request are its response body.
        let last = self
            .lists
            .get_mut(&self.list_of(name))
            .and_then(|l| l.last_mut());
        if let Some(step) = last {
            step["items"] = json!(format!("steps.{id}_call.output.body"));
        }
    }

    fn slot(&mut self, name: &str, slot: &str) {
        let node = &self.graph.nodes[name];
        let n8n = node
            .credentials
            .as_object()
            .and_then(|c| c.values().next())
            .and_then(|c| c["name"].as_str())
            .unwrap_or("none")
            .to_owned();
        self.credentials.insert(slot.to_owned(), n8n);
    }

    /// The ids of the steps on a node's output `out`.
    fn targets(&mut self, name: &str, out: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let tos: Vec<String> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.from == name && e.out == out)
            .map(|e| e.to.clone())
            .collect();
        for to in tos {
            let id = match self.ids.get(&to) {
                Some(id) => id.clone(),
                None => {
                    let id = self.fresh(&to);
                    self.ids.insert(to.clone(), id.clone());
                    id
                }
            };
            // A step the importer puts first for this node (its parameters).
            let first = match self.graph.nodes[&to].kind.as_str() {
                "httpRequest" | "slack" | "openAi" => format!("{id}_params"),
                _ => id,
            };
            ids.push(first);
        }
        ids
    }

    /// n8n conditions (If v2, Switch v3 rules) as one JavaScript boolean expression.
    fn conditions(&mut self, c: &Value) -> String {
        let list = c["conditions"].as_array().cloned().unwrap_or_default();
        let join = if c["combinator"].as_str() == Some("or") {
            " || "
        } else {
            " && "
        };
        if list.is_empty() {
            return "true".into();
        }
        list.iter()
            .map(|one| {
                let l = self.js_value(&one["leftValue"]);
                let r = self.js_value(&one["rightValue"]);
                format!("__test({}, {l}, {r})", json!({"operator": one["operator"]}))
            })
            .collect::<Vec<_>>()
            .join(join)
    }

    /// A parameter value as JavaScript: `=...{{ js }}...` expressions as
    /// code, anything else as its JSON.
    fn js_value(&mut self, v: &Value) -> String {
        match v {
            Value::String(s) if s.starts_with('=') => self.expression(&s[1..]),
            Value::Object(m) => format!(
                "{{ {} }}",
                m.iter()
                    .map(|(k, v)| format!("{}: {}", js_string(k), self.js_value(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Array(a) => format!(
                "[{}]",
                a.iter()
                    .map(|v| self.js_value(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        }
    }

    /// The text after `=`: literal text and `{{ js }}` blocks. One block
    /// alone keeps its value's type; otherwise the parts are joined as text.
    fn expression(&mut self, s: &str) -> String {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(js_string(&rest[..open]));
            }
            let Some(close) = rest[open..].find("}}") else {
                break;
            };
            let js = self.refs(rest[open + 2..open + close].trim());
            parts.push(format!("({js})"));
            rest = &rest[open + close + 2..];
        }
        if !rest.is_empty() {
            parts.push(js_string(rest));
        }
        match parts.as_slice() {
            [] => "''".into(),
            [one] => one.clone(),
            _ => parts
                .iter()
                .map(|p| {
                    if p.starts_with('(') {
                        format!("__as('string', {p})")
                    } else {
                        p.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// `$('Node')` and `$node["Node"]` as the node's step.
    fn refs(&mut self, js: &str) -> String {
        let mut out = js.to_owned();
        let names: Vec<String> = self.graph.nodes.keys().cloned().collect();
        for name in names {
            for pattern in [
                format!("$('{name}')"),
                format!("$(\"{name}\")"),
                format!("$node[\"{name}\"]"),
                format!("$node['{name}']"),
            ] {
                if out.contains(&pattern) {
                    let target = match self.ids.get(&name) {
                        Some(id) if id.is_empty() => "trigger".to_owned(),
                        Some(id) => format!("steps.{id}.output"),
                        None => {
                            self.notes.push(Note { node: name.clone(), message: "read by an expression before it runs: check the imported reference".into() });
                            "null".into()
                        }
                    };
                    out = out.replace(&pattern, &format!("__node({target})"));
                }
            }
        }
        out
    }

    fn push(&mut self, list: Option<String>, step: Value) {
        self.lists.entry(list).or_default().push(step);
    }

    /// Puts each loop's body list into its step.
    fn fill_bodies(&mut self, step: &mut Value) {
        if step["kind"] == "loop" {
            let id = step["id"].as_str().unwrap_or("").to_owned();
            let mut body = self.lists.remove(&Some(id)).unwrap_or_default();
            for s in &mut body {
                self.fill_bodies(s);
            }
            step["body"] = Value::Array(body);
        }
    }

    /// A step id from a node name: `[a-z0-9_]`, unique in the definition.
    fn fresh(&mut self, name: &str) -> String {
        let mut id = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                id.push(c.to_ascii_lowercase());
            } else if !id.ends_with('_') && !id.is_empty() {
                id.push('_');
            }
        }
        let mut id = id.trim_end_matches('_').to_owned();
        if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
            id.insert_str(0, "node_");
        }
        id.truncate(48);
        let mut unique = id.clone();
        let mut n = 2;
        while !self.used.insert(unique.clone()) {
            unique = format!("{id}_{n}");
            n += 1;
        }
        unique
    }

    /// An Edit Fields (Set v3) node's script.
    fn set_script(&mut self, p: &Value) -> String {
        let mut lines = Vec::new();
        let include = p["includeOtherFields"].as_bool() == Some(true)
            || p["options"]["includeOtherFields"].as_bool() == Some(true);
        lines.push(format!(
            "return items.map(($json, $itemIndex) => {{\n  const out = {};",
            if include {
                "structuredClone($json)"
            } else {
                "{}"
            }
        ));
        for a in p["assignments"]["assignments"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = a["name"].as_str().unwrap_or("");
            let ty = a["type"].as_str().unwrap_or("string");
            let v = self.js_value(&a["value"]);
            lines.push(format!(
                "  __set(out, {}, __as({}, {v}));",
                js_string(name),
                js_string(ty)
            ));
        }
        lines.push("  return out;\n});".into());
        lines.join("\n")
    }

    fn note(&mut self, node: &str, message: &str) {
        self.notes.push(Note {
            node: node.to_owned(),
            message: message.to_owned(),
        });
    }
}

#[cfg(test)]
impl Builder<'static> {
    /// A builder with no graph, for expressions that name no node.
    fn scratch() -> Self {
        static GRAPH: std::sync::LazyLock<Graph> = std::sync::LazyLock::new(Graph::default);
        static OPTIONS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(Options::default);
        Builder {
            graph: &GRAPH,
            options: &OPTIONS,
            ids: HashMap::new(),
            used: BTreeSet::new(),
            outputs: HashMap::new(),
            lists: BTreeMap::new(),
            loops: HashMap::new(),
            notes: Vec::new(),
            triggers: Map::new(),
            hosts: BTreeSet::new(),
            credentials: BTreeMap::new(),
            last_mode: false,
        }
    }
}

/// Items as JavaScript over the code step's names.
fn js_items(i: &Items) -> String {
    match i {
        Items::Trigger => "trigger".into(),
        Items::Expr(e) => e.clone(),
    }
}

fn js_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A Schedule Trigger's rule as a cron expression.
fn schedule_cron(p: &Value) -> Option<String> {
    let rule = p["rule"]["interval"].as_array()?.first()?;
    let n = |k: &str| rule[k].as_u64().unwrap_or(1);
    let at_minute = rule["triggerAtMinute"].as_u64().unwrap_or(0);
    let at_hour = rule["triggerAtHour"].as_u64().unwrap_or(0);
    Some(match rule["field"].as_str().unwrap_or("days") {
        "cronExpression" => rule["expression"].as_str()?.to_owned(),
        "seconds" => format!("*/{} * * * * *", n("secondsInterval")),
        "minutes" => format!("*/{} * * * *", n("minutesInterval")),
        "hours" => format!("{at_minute} */{} * * *", n("hoursInterval")),
        "days" => format!("{at_minute} {at_hour} */{} * *", n("daysInterval")),
        "weeks" => format!(
            "{at_minute} {at_hour} * * {}",
            rule["triggerAtDay"].as_array().map_or("0".into(), |d| d
                .iter()
                .filter_map(Value::as_u64)
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(","))
        ),
        "months" => format!(
            "{at_minute} {at_hour} {} */{} *",
            rule["triggerAtDayOfMonth"].as_u64().unwrap_or(1),
            n("monthsInterval")
        ),
        _ => return None,
    })
}

#[cfg(test)]
#[path = "n8n_tests.rs"]
mod tests;
