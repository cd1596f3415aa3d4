//! The workflow's contract with its callers: `input_schema`, a respond
//! step's `output_schema`, and `mcp` (how it is offered as a tool).

use super::Checker;
use crate::input::{self, MAX_TOOL_DESCRIPTION, MAX_TOOL_NAME};
use serde_json::{Value, json};

/// A scheduled run's body as the sweeper builds it (`worker::schedule`),
/// with plausible times: what `input_schema` must accept when the workflow
/// also has a schedule.
fn scheduled_body() -> Value {
    json!({"scheduled_at": 1_767_225_600_000_i64, "fired_at": 1_767_225_600_250_i64})
}

impl Checker<'_> {
    /// `input_schema`, `mcp`, and a schedule's body against the schema.
    pub(super) fn contract(&mut self) {
        let d = self.def;
        let exposed = d.mcp.as_ref().is_some_and(|m| m.expose);
        if let Some(schema) = &d.input_schema {
            let before = self.out.len();
            input::schema_problems(schema, "/input_schema", &mut self.out);
            if exposed {
                self.object_schema(schema, "/input_schema", "inputSchema");
            }
            if self.out.len() == before {
                self.schedule_body();
            }
        }
        if let Some(m) = &d.mcp {
            if let Some(name) = &m.name
                && !input::is_tool_name(name)
            {
                self.problem(
                    "/mcp/name",
                    format!(
                        "`{name}` is not a tool name: 1 to {MAX_TOOL_NAME} letters, digits, `_` or `-`"
                    ),
                );
            }
            if let Some(text) = &m.description {
                if text.trim().is_empty() {
                    self.problem(
                        "/mcp/description",
                        "must not be blank (leave it out to use the workflow's description)",
                    );
                }
                let n = text.chars().count();
                if n > MAX_TOOL_DESCRIPTION {
                    self.problem(
                        "/mcp/description",
                        format!("is {n} characters, more than {MAX_TOOL_DESCRIPTION}"),
                    );
                }
            }
        }
    }

    /// A respond step's `output_schema`: usable, and an object schema when
    /// the workflow is exposed over MCP.
    pub(super) fn output_schema(&mut self, schema: &Value, path: &str) {
        let path = format!("{path}/output_schema");
        input::schema_problems(schema, &path, &mut self.out);
        if self.def.mcp.as_ref().is_some_and(|m| m.expose) {
            self.object_schema(schema, &path, "outputSchema");
        }
    }

    /// MCP describes a tool's arguments and structured result with object
    /// schemas only.
    fn object_schema(&mut self, schema: &Value, path: &str, field: &str) {
        if schema.get("type") != Some(&Value::String("object".into())) {
            self.problem(
                format!("{path}/type"),
                format!(
                    "a workflow exposed over MCP (`mcp.expose: true`) needs `type: object` here: \
                     MCP's {field} is an object schema"
                ),
            );
        }
    }

    /// A schedule starts runs with `{scheduled_at, fired_at}` as the body:
    /// the schema must accept it, or every tick would start a run with an
    /// input the workflow says it cannot take.
    fn schedule_body(&mut self) {
        if self.def.triggers.schedule.is_none() {
            return;
        }
        if let Err(problems) = input::check(self.def, &scheduled_body()) {
            let why = input::summary(&problems);
            let why = why
                .strip_prefix("the input does not match the workflow's input_schema: ")
                .unwrap_or(&why);
            self.problem(
                "/triggers/schedule",
                format!(
                    "a scheduled run's trigger.body is {{scheduled_at, fired_at}} (Unix \
                     milliseconds), and input_schema refuses it ({why}); make the schema \
                     accept it, or start this workflow another way"
                ),
            );
        }
    }
}
